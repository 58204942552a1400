"""The minimal leaderboard spec of issue 7, exactly as written there, shared by the leaderboard tests."""

MINIMAL = """\
name: sim-board
title: Simulated board
description: Every model and task in the store.
selection: {tasks: all}
aggregator: {method: plackett-luce}
also_show: [mean, borda]
"""
