"""Synthetic listings for benchmarks: N distinct papers spread over listing files.

Titles and abstracts have realistic lengths (about 10 and 200 words) and use the
vocabulary of ``content/topics.yml`` often enough that topics and related papers have
work to do. A quarter of each listing's entries repeat papers of earlier listings, and
the listings alternate between the simple and the rich layout, as the real ones do.
Everything is drawn from a seeded generator, so a corpus is the same on every run.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
HEADER = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
    "{daily}byAK and the research community\n\n{date}\n\n"
)
TOPIC_PHRASES = """parameter-efficient fine-tuning|LoRA|low-rank adaptation|adapters|prefix tuning|
instruction tuning|supervised fine-tuning|instruction following|RLHF|human feedback|
direct preference optimization|reward model|reinforcement learning|policy optimization|
in-context learning|demonstrations|prompt engineering|prompt learning|multi-task|
zero-shot generalization|model merging|mixture of experts|catastrophic forgetting|
continual learning|retrieval-augmented generation|dense retrieval|re-ranking|
vision-language|multimodal large language models|image captioning|text-to-image|
diffusion models|contrastive learning|sentence embeddings|dialogue|conversational agents|
recommendation|personalized|code generation|program synthesis|reasoning|chain-of-thought|
mathematical|agents|tool use|function calling|multilingual|cross-lingual|machine translation|
domain adaptation|biomedical|legal|financial|data augmentation|synthetic data|data selection|
pre-training|curriculum learning|quantization|pruning|distillation|long-context|
context length|interpretability|probing|hallucination|factuality|model editing|safety|
jailbreak|robustness|benchmark for|evaluating|speech|audio""".replace("\n", "").split("|")
WORDS = [
    "model",
    "models",
    "language",
    "large",
    "training",
    "data",
    "task",
    "tasks",
    "performance",
    "method",
    "methods",
    "approach",
    "results",
    "show",
    "propose",
    "novel",
    "framework",
    "learning",
    "neural",
    "network",
    "networks",
    "transformer",
    "transformers",
    "layer",
    "layers",
    "attention",
    "representation",
    "representations",
    "downstream",
    "benchmark",
    "benchmarks",
    "accuracy",
    "efficient",
    "efficiency",
    "scale",
    "scaling",
    "parameters",
    "parameter",
    "experiments",
    "experimental",
    "demonstrate",
    "significantly",
    "improve",
    "improves",
    "improved",
    "state",
    "art",
    "existing",
    "prior",
    "work",
    "study",
    "analysis",
    "generalization",
    "knowledge",
    "information",
    "text",
    "token",
    "tokens",
    "sequence",
    "sequences",
    "objective",
    "loss",
    "optimization",
    "gradient",
    "fine",
    "tuned",
    "pretrained",
    "pre",
    "trained",
    "architecture",
    "capability",
    "capabilities",
    "evaluation",
    "dataset",
    "datasets",
    "quality",
    "robust",
    "simple",
    "effective",
    "strategy",
    "strategies",
    "setting",
    "settings",
    "learn",
    "learned",
    "across",
    "multiple",
    "different",
    "various",
    "specific",
    "general",
    "open",
    "source",
    "available",
    "code",
    "release",
    "new",
    "problem",
    "challenge",
    "challenges",
    "address",
    "limitation",
    "limitations",
    "inference",
    "cost",
    "costs",
    "memory",
    "compute",
    "computational",
    "tuning",
    "align",
    "alignment",
    "human",
    "preference",
    "preferences",
    "output",
    "outputs",
    "input",
    "inputs",
    "generate",
    "generation",
    "generative",
    "domain",
    "domains",
]
SYLLABLES = [
    "ka",
    "lo",
    "ra",
    "mi",
    "ne",
    "zu",
    "ta",
    "vo",
    "li",
    "qua",
    "ser",
    "pen",
    "dra",
    "mox",
    "fin",
    "tel",
    "gor",
    "bix",
    "yun",
]
# A long tail of rarer words, drawn with Zipf-like frequencies as in real abstracts.
RARE = sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES})
RARE_CUMULATIVE = list(itertools.accumulate(1.0 / (rank + 10) for rank in range(len(RARE))))


def _name(rng: random.Random, index: int) -> str:
    stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return f"{stem.capitalize()}{index}"


THEMES = 300  # papers of one theme share a vocabulary, as papers of one field do
THEME_WORDS = 40


def _theme_words(theme: int) -> list[str]:
    start = theme * 23 % len(RARE)
    return (RARE + RARE)[start : start + THEME_WORDS]


def _sentence(rng: random.Random, theme: list[str]) -> str:
    count = rng.randint(12, 24)
    words = [rng.choice(WORDS) for _ in range(count - count // 3)]
    for _ in range(count // 3):
        if rng.random() < 0.6:
            words.append(rng.choice(theme))
        else:
            words.append(rng.choices(RARE, cum_weights=RARE_CUMULATIVE)[0])
    rng.shuffle(words)
    for _ in range(rng.randint(0, 2)):
        words.insert(rng.randrange(len(words)), rng.choice(TOPIC_PHRASES))
    return " ".join(words).capitalize() + "."


def make_paper(rng: random.Random, index: int) -> tuple[str, str]:
    topic = rng.choice(TOPIC_PHRASES)
    title = (
        f"{_name(rng, index)}: "
        + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 6))).capitalize()
        + f" for {topic} with "
        + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
    )
    theme = _theme_words(rng.randrange(THEMES))
    abstract = " ".join(_sentence(rng, theme) for _ in range(rng.randint(7, 11)))
    if rng.random() < 0.2:
        abstract += f" Code is available at https://github.com/lab{index % 97}/{_name(rng, index)}."
    return title, abstract


def write_corpus(
    directory: Path,
    papers: int,
    per_listing: int = 100,
    repeat_share: float = 0.25,
    seed: int = 0,
    first_index: int = 0,
    prefix: str = "listing",
) -> dict:
    """Write listing files for ``papers`` new papers; returns counts."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    made: list[tuple[str, str, str]] = []  # title, abstract, metadata lines
    entries = 0
    listing = 0
    index = first_index
    while index < first_index + papers:
        rich = listing % 2 == 1
        lines = []
        fresh = min(round(per_listing * (1 - repeat_share)), first_index + papers - index)
        chosen = []
        for _ in range(fresh):
            title, abstract = make_paper(rng, index)
            year = rng.choice((2022, 2023, 2024, None))
            day = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}"
            date = f"{day}, {year}" if year else day
            upvotes = rng.choice(("", "", f" {rng.randint(1, 40)}"))
            meta = f"  • {rng.randint(1, 12)} authors\n·\n{date}{upvotes}\n\n"
            made.append((title, abstract, meta))
            chosen.append(made[-1])
            index += 1
        if len(made) > fresh:
            repeats = per_listing - fresh
            chosen += rng.sample(made[:-fresh], min(repeats, len(made) - fresh))
        rng.shuffle(chosen)
        for title, abstract, meta in chosen:
            lines.append(f"{title}\n\n{abstract}\n\n")
            if rich:
                lines.append(meta)
        header = HEADER.format(daily="Daily Papers\n\n" if rich else "", date="Nov 4")
        path = directory / f"{prefix}_{listing:05d}.txt"
        path.write_text(header + "".join(lines), encoding="utf-8")
        entries += len(chosen)
        listing += 1
    return {"papers": papers, "listings": listing, "entries": entries}
