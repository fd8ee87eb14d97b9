"""Search by meaning (issue 23): recall per mode, indexing speed, query latency, size.

recall@3     ``bench.recall_set``: 40 memories an agent swarm keeps, 30 questions in
             other words (paraphrases) and 20 by an exact identifier, each labelled
             with the key that answers it; the share answered in the first 3
             results, per mode. Aims: hybrid >= 0.8 on paraphrases, >= 0.9 on
             identifiers.
indexing     entries embedded per second by ``index()`` (notes of about 40 words of
             English each: what agents store), on this machine's cores.
             Aim: >= 150 entries/s on 2 cores.
query        p50 / p95 of a semantic and of a hybrid search over N entries, the query's
             embedding included (a new question each time, nothing cached). The
             store holds N real entries; their vectors are ``--real`` real ones,
             repeated with noise up to N, since embedding 100,000 entries takes
             ~10 minutes and the exact scan costs the same whatever the vectors
             hold. Aim: p50 <= 25 ms at 100,000.
size         bytes the vector table adds per entry (SQLite file growth / entries).
             Aim: <= ~1 KB.
1M scan      (full run only) the exact scan alone over 1,000,000 int8 vectors: how a
             store that size stays searchable.

    python -m bench.bench_semantic [--quick] [--entries N] [--json]

Needs the semantic extra and a model folder (MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH, else
MEMORY_LIFECYCLE_TEST_EMBEDDING_MODEL_PATH as CI sets it, else the one
scripts/build-embedding-model.py builds by default); says so and exits 0 without.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpus import Corpus
from bench.recall_set import IDENTIFIERS, MEMORIES, PARAPHRASES
from lifecycle import ManualClock, MemoryLifecycleManager
from lifecycle.search.semantic.source import ENV_MODEL_PATH, folder_problem, missing_extra

DEFAULT_FOLDER = Path.home() / ".cache" / "memory-lifecycle" / "models" / "all-MiniLM-L6-v2"
MODES = ("keyword", "semantic", "hybrid")
ENV_TEST_MODEL_PATH = "MEMORY_LIFECYCLE_TEST_EMBEDDING_MODEL_PATH"


def model_folder() -> Path | None:
    named = os.environ.get(ENV_MODEL_PATH) or os.environ.get(ENV_TEST_MODEL_PATH)  # (CI's)
    folder = Path((named or "").strip() or DEFAULT_FOLDER)
    why = missing_extra() or folder_problem(folder)
    if why is not None:
        print(f"bench_semantic skipped: {why}", file=sys.stderr)
        return None
    os.environ[ENV_MODEL_PATH] = str(folder)
    return folder


def recall(tmp: Path) -> dict[str, float]:
    """recall@3 per mode and question kind."""
    out: dict[str, float] = {}
    with MemoryLifecycleManager(memory_dir=tmp / "recall", clock=ManualClock(time.time())) as m:
        m.store_many([{"key": k, "value": v} for k, v in MEMORIES.items()])
        m.index()
        for kind, questions in (("paraphrase", PARAPHRASES), ("identifier", IDENTIFIERS)):
            for mode in MODES:
                hits = 0
                for question, answer in questions:
                    try:
                        found = m.search(question, mode=mode, limit=3)["results"]
                    except ValueError:  # a question the keyword syntax refuses
                        found = []
                    hits += answer in [r["key"] for r in found]
                out[f"{kind}_{mode}"] = hits / len(questions)
    return out


def note(i: int) -> dict[str, str]:
    """A memory of about 40 words of English: two of the recall set's, numbered."""
    texts = list(MEMORIES.values())
    return {"note": f"{texts[i % len(texts)]} {texts[(i * 7 + 3) % len(texts)]}", "n": str(i)}


def indexing(tmp: Path, entries: int) -> tuple[float, float]:
    """Entries embedded per second of wall time, and per second of this process's CPU
    time (all its threads: on a machine others share, wall time says more about them than
    about us; on an idle one, wall throughput is about cores x the CPU figure). Notes of
    ~40 English words (bench.corpus's pseudo-words cut into 3-4 word pieces each, 5x the
    tokens of English, so they would understate it)."""
    with MemoryLifecycleManager(memory_dir=tmp / "speed", clock=ManualClock(time.time())) as m:
        m.store_many([{"key": f"notes/{i:06}", "value": note(i)} for i in range(entries)])
        m.index(limit=16)  # load the model outside the timing
        started, cpu = time.perf_counter(), time.process_time()
        report = m.index()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        return report["indexed"] / wall, report["indexed"] / cpu


def latency(tmp: Path, entries: int, real: int, queries: int) -> dict[str, float]:
    import numpy as np

    from lifecycle.search.semantic.document import embedding_text, text_hash
    from lifecycle.search.semantic.quantize import quantize, to_bytes
    from lifecycle.store.vectors import NewVector

    corpus = Corpus(seed=3)
    out: dict[str, float] = {"entries": entries}
    path = tmp / "latency"
    with MemoryLifecycleManager(memory_dir=path, clock=ManualClock(time.time())) as m:
        for start in range(0, entries, 1000):
            batch = range(start, min(entries, start + 1000))
            m.store_many([{"key": corpus.key(i), "value": corpus.value(i)} for i in batch])
        m.search("warm up", mode="keyword")
        before = (path / "memory.db").stat().st_size
        embedder = m.semantic.embedder()
        vectors = m.backend.vectors()
        rng = np.random.default_rng(1)
        after = ""
        base: Any = None
        while rows := vectors.pending(embedder.model_id, m.clock.now(), after, 2000):
            texts = [embedding_text(p.row) for p in rows]
            if base is None or len(base) < real:
                made = embedder.embed(texts[: max(0, real - (0 if base is None else len(base)))])
                base = made if base is None else np.vstack([base, made])
            picks = base[rng.integers(0, len(base), len(rows))]
            noisy = picks + rng.normal(0, 0.02, picks.shape).astype(np.float32)
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            ints, scales = quantize(noisy)
            saved = [
                NewVector(p.row.key, p.row.revision, text_hash(t), float(s), to_bytes(v))
                for p, t, v, s in zip(rows, texts, ints, scales, strict=True)
            ]
            vectors.save(embedder.model_id, saved, m.clock.now())
            after = rows[-1].row.key
        m.backend._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
        out["vector_bytes_per_entry"] = ((path / "memory.db").stat().st_size - before) / entries
    with MemoryLifecycleManager(memory_dir=path, clock=ManualClock(time.time())) as m:
        started = time.perf_counter()  # a new process's first query: reads every vector
        m.search("warm up the copy", mode="semantic")
        out["first_query_ms"] = (time.perf_counter() - started) * 1000
        embedder = m.semantic.embedder()
        questions = [f"{PARAPHRASES[i % len(PARAPHRASES)][0]} {i}" for i in range(queries)]
        for mode in ("semantic", "hybrid"):
            times = []
            cpu = time.process_time()
            for question in questions:
                started = time.perf_counter()
                m.search(question + mode, mode=mode)
                times.append((time.perf_counter() - started) * 1000)
            out[f"{mode}_cpu_ms"] = (time.process_time() - cpu) * 1000 / len(questions)
            times.sort()
            out[f"{mode}_p50_ms"] = statistics.median(times)
            out[f"{mode}_p95_ms"] = times[max(0, int(len(times) * 0.95) - 1)]
        started = time.perf_counter()
        for question in questions[:20]:
            embedder.embed_query(question + " embed only")
        out["query_embedding_ms"] = (time.perf_counter() - started) * 1000 / 20
    return out


def scan_million() -> float:
    import numpy as np

    from lifecycle.search.semantic.scan import dot_int8

    matrix = np.random.default_rng(2).integers(-127, 128, (1_000_000, 384), dtype=np.int8)
    query = matrix[7]
    dot_int8(matrix, query)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        dot_int8(matrix, query)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 entries, under a minute")
    parser.add_argument("--entries", type=int, help="entries for the latency run (100,000)")
    parser.add_argument("--real", type=int, default=2000, help="real vectors in that run")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if model_folder() is None:
        return 0
    entries = args.entries or (10_000 if args.quick else 100_000)
    results: dict[str, Any] = {"cores": os.cpu_count(), "load_1min": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        results["recall_at_3"] = recall(Path(tmp))
        wall, cpu = indexing(Path(tmp), 200 if args.quick else 1000)
        results["indexing_entries_per_s"] = wall
        results["indexing_entries_per_cpu_s"] = cpu
        real = min(args.real, 300 if args.quick else args.real)
        results["latency"] = latency(Path(tmp), entries, real, 30 if args.quick else 200)
    if not args.quick:
        results["scan_1m_ms"] = scan_million()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"bench_semantic ({results['cores']} cores, load average {results['load_1min']:.1f})")
    r = results["recall_at_3"]
    print(f"{'recall@3':24}{'keyword':>10}{'semantic':>10}{'hybrid':>10}")
    for kind in ("paraphrase", "identifier"):
        print(f"{kind:24}" + "".join(f"{r[f'{kind}_{mode}']:>10.2f}" for mode in MODES))
    print(
        f"{'indexing (entries/s)':24}{results['indexing_entries_per_s']:>10.0f}"
        f"   ({results['indexing_entries_per_cpu_s']:.0f} per CPU second)"
    )
    lat = results["latency"]
    for mode in ("semantic", "hybrid"):
        print(
            f"{mode + ' p50 / p95 (ms)':24}{lat[f'{mode}_p50_ms']:>10.1f} /"
            f"{lat[f'{mode}_p95_ms']:>6.1f}   at {lat['entries']:,} entries"
            f" ({lat[f'{mode}_cpu_ms']:.1f} ms CPU each)"
        )
    print(f"{'query embedding (ms)':24}{lat['query_embedding_ms']:>10.1f}")
    print(f"{'first query (ms)':24}{lat['first_query_ms']:>10.0f}   (loads the vectors)")
    print(f"{'vector bytes / entry':24}{lat['vector_bytes_per_entry']:>10.0f}")
    if "scan_1m_ms" in results:
        print(f"{'exact scan at 1M (ms)':24}{results['scan_1m_ms']:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
