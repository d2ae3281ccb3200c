"""Tiny SuperGLUE samples in the official local layout `<root>/super_glue/<Task>/{train,val,test}.jsonl` (and SQuAD
json files: write_squad), written by the tests themselves (no shared data needed); test files carry no labels, as
the official ones.
Tests take them through conftest's fixtures:

    data_dir = write_samples(tmp_path)       # then data_dir=<data_dir> for any superglue task
    data_dir = write_rte(tmp_path, size=40)  # the same, with a longer RTE train file of varied lengths
"""
from __future__ import annotations

import json
from pathlib import Path

SPLIT_SIZES = {"train": 6, "val": 4, "test": 3}
WORDS = ["river", "bank", "money", "stone", "light", "music"]


def rte(i, labelled):
    return {"premise": f"The {WORDS[i % 6]} is near the town.", "hypothesis": f"A {WORDS[(i + 1) % 6]} exists.",
            "idx": i, **({"label": ["entailment", "not_entailment"][i % 2]} if labelled else {})}


def cb(i, labelled):
    return {**rte(i, False), **({"label": ["entailment", "contradiction", "neutral"][i % 3]} if labelled else {})}


def boolq(i, labelled):
    return {"question": f"is the {WORDS[i % 6]} old", "passage": f"The {WORDS[i % 6]} was built long ago.",
            "idx": i, **({"label": bool(i % 2)} if labelled else {})}


def copa(i, labelled):
    return {"premise": f"The {WORDS[i % 6]} fell.", "choice1": "It was heavy.", "choice2": "It was blue.",
            "question": ["cause", "effect"][i % 2], "idx": i, **({"label": i % 2} if labelled else {})}


def wic(i, labelled):
    word = WORDS[i % 6]
    first, second = f"I saw the {word} today.", f"That {word} was loud."
    return {"word": word, "sentence1": first, "sentence2": second, "start1": 10, "end1": 10 + len(word),
            "start2": 5, "end2": 5 + len(word), "idx": i, "version": 1.1,
            **({"label": bool(i % 2)} if labelled else {})}


def wsc(i, labelled):
    return {"text": f"The {WORDS[i % 6]} hit the wall because it was fast .", "idx": i,
            "target": {"span1_index": 1, "span1_text": WORDS[i % 6], "span2_index": 6, "span2_text": "it"},
            **({"label": bool(i % 2)} if labelled else {})}


def multirc(i, labelled):
    def answer(a, text):
        return {"text": text, "idx": 10 * i + a, **({"label": (a + i) % 2} if labelled else {})}

    questions = [{"question": f"What is near the {WORDS[(i + q) % 6]}?", "idx": 3 * i + q,
                  "answers": [answer(2 * q, "A town"), answer(2 * q + 1, "A lake")]} for q in range(2)]
    return {"idx": i, "version": 1.1,
            "passage": {"text": f"The {WORDS[i % 6]} is near a town. The town has a lake.", "questions": questions}}


def record(i, labelled):
    text = f"Paris and Berlin met London.\n@highlight\nThe {WORDS[i % 6]} summit"
    entities = [{"start": 0, "end": 4}, {"start": 10, "end": 15}, {"start": 21, "end": 26}, {"start": 0, "end": 4}]
    gold = [{"start": 10, "end": 15, "text": "Berlin"}] if i % 2 else [{"start": 0, "end": 4, "text": "Paris"}]
    return {"idx": i, "source": "Daily mail", "passage": {"text": text, "entities": entities},
            "qas": [{"query": f"@placeholder hosted the {WORDS[i % 6]} talks", "idx": 100 + i,
                     **({"answers": gold} if labelled else {})}]}


MAKERS = {"RTE": rte, "CB": cb, "BoolQ": boolq, "COPA": copa, "WiC": wic, "WSC": wsc, "MultiRC": multirc,
          "ReCoRD": record}


def write_samples(root: Path) -> Path:
    for task_name, make in MAKERS.items():
        folder = root / "super_glue" / task_name
        folder.mkdir(parents=True, exist_ok=True)
        for split, size in SPLIT_SIZES.items():
            lines = [json.dumps(make(i, labelled=split != "test")) for i in range(size)]
            (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    return root


RTE_WORDS = "the river bank holds money and stone while light music plays near an old town".split()


def write_rte(tmp_path: Path, size: int = 20) -> Path:
    """RTE samples of varied lengths (so that length grouping has something to group)."""
    data = write_samples(tmp_path)
    lines = [json.dumps({"premise": " ".join(RTE_WORDS[: 3 + (i * 7) % 14]),
                         "hypothesis": f"A {RTE_WORDS[i % 15]} exists.",
                         "label": ["entailment", "not_entailment"][i % 2], "idx": i}) for i in range(size)]
    (data / "super_glue" / "RTE" / "train.jsonl").write_text("\n".join(lines) + "\n")
    return data


# SQuAD: official-layout json files (tests/tasks/qa/test_squad.py, tests/reports/test_units.py)
FILLER = "The committee met again the following spring to review the records of every season. "


def paragraph(article: int, number: int, unanswerable: bool) -> dict:
    """A context long enough for several 64-token windows, with one answerable question near its end."""
    answer = f"Harbor {article}{number} Stadium"
    context = FILLER * 3 + f"The final was played at {answer} in May."
    qas = [{"id": f"a{article}p{number}", "question": "Where was the final played?",
            "answers": [{"text": answer, "answer_start": context.index(answer)},
                        {"text": f"at {answer}", "answer_start": context.index(answer) - 3}]}]
    if unanswerable:
        qas.append({"id": f"a{article}p{number}-none", "question": "Who sang the anthem?", "answers": [],
                    "is_impossible": True, "plausible_answers": [{"text": "committee", "answer_start": 4}]})
    return {"context": context, "qas": qas}


def write_squad(folder, name: str, articles: int, unanswerable: bool = False):
    data = [{"title": f"Article_{a}", "paragraphs": [paragraph(a, p, unanswerable) for p in range(2)]}
            for a in range(articles)]
    path = folder / "squad" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "test", "data": data}))
    return path
