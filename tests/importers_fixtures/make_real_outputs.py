"""Generate the real-tool fixtures in tests/importers_fixtures/real/ (offline, a few seconds each).

    python tests/importers_fixtures/make_real_outputs.py [OUT]      # default: tests/importers_fixtures/real

lm-evaluation-harness 0.4.13 (`lm_eval` CLI): a randomly initialised tiny GPT-2 (1 layer, 16
dimensions) with a byte-level BPE tokenizer trained here on the task's own text, saved to a temp
folder, evaluated on a local multiple-choice task (`tiny_arith`, a JSON Lines file) with
`--log_samples`:

* `lm_eval/out/`: two runs of the same model and task into one output folder (`--limit 8`, then
  `--limit 12`), lm-eval's ordinary timestamped files in `out/tiny-gpt2/`;
* `lm_eval/run_json/`: `--output_path run_json/run.json` (files `run_<date>.json`).

inspect-ai 0.3.285 (`inspect_ai.eval`, model `mockllm/model` with fixed outputs): a task with two
scorers (`match`, and `multi`, whose value is a dict `{a, b}`):

* `inspect/<date>_tiny_<id>.eval`: the default log format (zip, members compressed with zstd);
* `inspect/<date>_tiny_<id>.json`: the same task with `log_format="json"`;
* `inspect_error/<date>_tiny-err_<id>.eval`: a run whose solver fails on sample 3 with
  `fail_on_error=True`: status "error", 4 of 10 samples in the log (3 and 4 with errors).

Sample cards (`cards` part): what the importers read to write cards.

* `lm_eval/cards/`: a task whose documents carry `subject` and `source` fields beside the
  question, a train split and `--num_fewshot 2` (each logged prompt holds two worked examples
  before the document's own question), `--limit 8`;
* `inspect_cards/<date>_quiz_<id>.eval`: samples whose `input` is a chat (a system and a user
  message) or a plain string, with `target`, `choices` and sample `metadata` (subject, level).

    python tests/importers_fixtures/make_real_outputs.py [OUT] [--only lm_eval,inspect,cards]

inspect counts tokens with tiktoken's o200k_base file, which it downloads; offline the script
counts words instead (token counts are bookkeeping in the log, not scores).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = [{"question": f"What is {i} plus {i % 3}?", "choices": [str(i + i % 3), str(i + 1), str(2 * i + 5)],
         "answer": 0} for i in range(12)]

TASK_YAML = """task: tiny_arith
dataset_path: json
dataset_kwargs:
  data_files:
    test: {docs}
test_split: test
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: answer
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


QUIZ = [
    ("geography", "atlas", "Which river flows through Cairo before it reaches the Mediterranean Sea?", "The Nile"),
    ("biology", "textbook", "Which gas do green plants take from the air during photosynthesis?", "Carbon dioxide"),
    ("chemistry", "textbook", "What is the chemical symbol of the element gold?", "Au"),
    ("astronomy", "atlas", "Which planet of the solar system has the most visible rings?", "Saturn"),
    ("history", "encyclopedia", "In which year did the Berlin Wall fall and open the border?", "1989"),
    ("music", "encyclopedia", "How many strings does a standard classical violin have?", "Four"),
    ("cooking", "recipe book", "Which leavening agent makes bread dough rise before baking?", "Yeast"),
    ("geography", "atlas", "What is the capital city of the country of Canada?", "Ottawa"),
    ("biology", "textbook", "Which organ pumps blood through the human body?", "The heart"),
    ("chemistry", "textbook", "What is the chemical formula of table salt?", "NaCl"),
    ("astronomy", "atlas", "Which star is closest to the planet Earth?", "The Sun"),
    ("history", "encyclopedia", "Who was the first person to walk on the Moon?", "Neil Armstrong"),
]
CARD_DOCS = [{"subject": subj, "source": src, "question": q, "choices": [a, "None of these"], "answer": 0}
             for subj, src, q, a in QUIZ]
CARD_TASK_YAML = """task: quiz_cards
dataset_path: json
dataset_kwargs:
  data_files:
    train: {train}
    test: {test}
training_split: train
fewshot_split: train
test_split: test
output_type: multiple_choice
description: "Answer the questions.\\n\\n"
doc_to_text: "Subject: {{{{subject}}}}\\nQuestion: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: answer
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def tiny_causal_lm(folder: Path, docs: list[dict] | None = None, n_positions: int = 64) -> Path:
    """A randomly initialised 1-layer GPT-2 and a BPE tokenizer trained on the task text, saved to `folder`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    text = [f"Question: {d['question']}\nAnswer: {c}" for d in (docs or DOCS) for c in d["choices"]]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(text, trainers.BpeTrainer(vocab_size=160, special_tokens=["<unk>", "<|endoftext|>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|endoftext|>",
                                   bos_token="<|endoftext|>")
    fast.save_pretrained(folder)
    eos = fast.convert_tokens_to_ids("<|endoftext|>")
    cfg = GPT2Config(vocab_size=len(fast), n_positions=n_positions, n_embd=16, n_layer=1, n_head=2,
                     bos_token_id=eos, eos_token_id=eos)
    GPT2LMHeadModel(cfg).save_pretrained(folder)
    return folder


def lm_eval_outputs(out: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tiny_causal_lm(tmp / "tiny-gpt2")
        (tmp / "task").mkdir()
        with open(tmp / "task" / "docs.jsonl", "w") as fh:
            fh.writelines(json.dumps(d) + "\n" for d in DOCS)
        (tmp / "task" / "tiny_arith.yaml").write_text(TASK_YAML.format(docs=tmp / "task" / "docs.jsonl"))

        def run(output_path: str, limit: int) -> None:
            cmd = ["lm_eval", "--model", "hf", "--model_args", "pretrained=tiny-gpt2", "--tasks", "tiny_arith",
                   "--include_path", "task", "--device", "cpu", "--batch_size", "1", "--limit", str(limit),
                   "--log_samples", "--output_path", output_path]
            subprocess.run(cmd, cwd=tmp, env=env, check=True, capture_output=True)

        run("out", 8)
        run("out", 12)  # a second run of the same model and task into the same folder
        run("run_json/run.json", 12)
        for name in ("out", "run_json"):
            shutil.rmtree(out / "lm_eval" / name, ignore_errors=True)
            shutil.copytree(tmp / name, out / "lm_eval" / name)


def inspect_outputs(out: Path) -> None:
    import inspect_ai.model._model as inspect_model

    inspect_model.count_text_tokens = lambda text: max(1, len(text.split()))  # offline: no tiktoken download

    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, get_model
    from inspect_ai.scorer import Score, Target, match, mean, scorer
    from inspect_ai.solver import Generate, TaskState, solver

    @scorer(metrics={"a": [mean()], "b": [mean()]})
    def multi():
        async def score(state: TaskState, target: Target) -> Score:
            n = int(state.sample_id)
            return Score(value={"a": n % 2, "b": 1.0 - (n % 3) / 2}, answer=state.output.completion)
        return score

    @solver
    def fail_on(sample_ids: set[int]):
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            if state.sample_id in sample_ids:
                raise RuntimeError(f"solver failed on sample {state.sample_id}")
            return await generate(state)
        return solve

    def task(name: str, n: int, fail: set[int]) -> Task:
        return Task(name=name, dataset=[Sample(input=f"Say {i}", target=str(i), id=i) for i in range(1, n + 1)],
                    solver=fail_on(fail), scorer=[match(), multi()])

    def model(n: int):
        outputs = [ModelOutput.from_content("mockllm/model", str(i) if i % 2 else "no idea") for i in range(1, n + 1)]
        return get_model("mockllm/model", custom_outputs=outputs)

    for sub in ("inspect", "inspect_error"):
        shutil.rmtree(out / sub, ignore_errors=True)
    inspect_eval(task("tiny", 4, set()), model=model(4), log_dir=str(out / "inspect"), display="none")
    inspect_eval(task("tiny", 4, set()), model=model(4), log_dir=str(out / "inspect"), log_format="json",
                 display="none")
    inspect_eval(task("tiny_err", 10, {3}), model=model(10), log_dir=str(out / "inspect_error"), display="none",
                 fail_on_error=True, max_samples=1)


def card_outputs(out: Path) -> None:
    """lm_eval/cards/ and inspect_cards/ (see the module docstring)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tiny_causal_lm(tmp / "tiny-gpt2", CARD_DOCS, n_positions=1024)
        (tmp / "task").mkdir()
        for split, docs in (("train", CARD_DOCS[8:]), ("test", CARD_DOCS[:8])):
            with open(tmp / "task" / f"{split}.jsonl", "w") as fh:
                fh.writelines(json.dumps(d) + "\n" for d in docs)
        (tmp / "task" / "quiz_cards.yaml").write_text(
            CARD_TASK_YAML.format(train=tmp / "task" / "train.jsonl", test=tmp / "task" / "test.jsonl"))
        cmd = ["lm_eval", "--model", "hf", "--model_args", "pretrained=tiny-gpt2", "--tasks", "quiz_cards",
               "--include_path", "task", "--device", "cpu", "--batch_size", "1", "--limit", "8",
               "--num_fewshot", "2", "--log_samples", "--output_path", "cards"]
        subprocess.run(cmd, cwd=tmp, env=env, check=True, capture_output=True)
        shutil.rmtree(out / "lm_eval" / "cards", ignore_errors=True)
        shutil.copytree(tmp / "cards", out / "lm_eval" / "cards")

    import inspect_ai.model._model as inspect_model

    inspect_model.count_text_tokens = lambda text: max(1, len(text.split()))  # offline: no tiktoken download

    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ChatMessageSystem, ChatMessageUser, ModelOutput, get_model
    from inspect_ai.scorer import match

    samples = []
    for i, (subj, _src, q, a) in enumerate(QUIZ[:6], 1):
        chat = [ChatMessageSystem(content="You are a careful quiz master. Answer in a few words."),
                ChatMessageUser(content=q)]
        samples.append(Sample(id=f"q{i}", input=chat if i % 2 else q, target=a, choices=[a, "None of these"],
                              metadata={"subject": subj, "level": 1 + i % 3}))
    outputs = [ModelOutput.from_content("mockllm/model", a if i % 2 else "no idea")
               for i, (_s, _r, _q, a) in enumerate(QUIZ[:6], 1)]
    shutil.rmtree(out / "inspect_cards", ignore_errors=True)
    inspect_eval(Task(name="quiz", dataset=samples, scorer=match()),
                 model=get_model("mockllm/model", custom_outputs=outputs), log_dir=str(out / "inspect_cards"),
                 display="none")


PARTS = {"lm_eval": lm_eval_outputs, "inspect": inspect_outputs, "cards": card_outputs}


def main(out: Path, parts: tuple[str, ...] = tuple(PARTS)) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for part in parts:
        PARTS[part](out)


if __name__ == "__main__":
    args = sys.argv[1:]
    only = tuple(PARTS)
    if "--only" in args:
        i = args.index("--only")
        only = tuple(args[i + 1].split(","))
        del args[i:i + 2]
    main(Path(args[0]) if args else HERE / "real", only)
