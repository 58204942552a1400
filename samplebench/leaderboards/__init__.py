"""Leaderboard specs -> tables, plots, a static page and a dataset card; publishing to the Hub."""
