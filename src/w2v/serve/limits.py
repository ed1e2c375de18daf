"""What one request may ask of the explorer, and where it listens unless told otherwise.

The page reads these bounds from ``GET /api/info``, so they are spelled only here.
"""

from __future__ import annotations

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

MAX_K = 100  # neighbours or analogy answers per question
DEFAULT_K = 10
DEFAULT_ANALOGY_K = 5  # as `w2v analogy`
MAX_MAP_WORDS = 5_000  # points on one map
DEFAULT_MAP_WORDS = 500
MAX_CHOSEN_WORDS = 50  # words named for a map of chosen words
MAX_MAP_NEIGHBORS = 50  # neighbours drawn around each chosen word
DEFAULT_MAP_NEIGHBORS = 10
MAX_TEXT = 100  # characters in a word or a prefix
MAX_LIST_TEXT = 2_000  # characters in a comma-separated list of words
MAX_COMPLETIONS = 50
DEFAULT_COMPLETIONS = 10
MAX_MODELS = 2  # w2v serve VECTORS [VECTORS_B]

TSNE_CACHE = 8  # t-SNE maps kept per model (each is at most MAX_MAP_WORDS x 2 floats)
HISTORY_POINTS = 2_000  # logged loss points sent to the page; a longer run is thinned


def as_dict() -> dict[str, int]:
    """The bounds the page shows and checks before it asks (the server checks again)."""
    return {
        "k": MAX_K,
        "map_words": MAX_MAP_WORDS,
        "chosen_words": MAX_CHOSEN_WORDS,
        "map_neighbors": MAX_MAP_NEIGHBORS,
        "text": MAX_TEXT,
        "list_text": MAX_LIST_TEXT,
        "completions": MAX_COMPLETIONS,
    }


def defaults() -> dict[str, int]:
    return {
        "k": DEFAULT_K,
        "analogy_k": DEFAULT_ANALOGY_K,
        "map_words": DEFAULT_MAP_WORDS,
        "map_neighbors": DEFAULT_MAP_NEIGHBORS,
        "completions": DEFAULT_COMPLETIONS,
    }
