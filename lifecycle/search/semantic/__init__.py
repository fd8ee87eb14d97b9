"""Recall by meaning: semantic and hybrid search over the store, off the write path.

The tree is the design:

    source.py     which model, from where (environment, policy file), and whether
                  the ``semantic`` extra is installed: no heavy import
    document.py   what an entry's embedded text is, and its hash (staleness)
    embedder.py   the model: tokenizer + ONNX Runtime, mean pooling, L2 norm
    quantize.py   float vectors <-> int8 bytes with a scale (~400 bytes an entry)
    scan.py       the exact similarity scan: int8 x int8 on ONNX Runtime's kernel
    index.py      the in-memory copy of the store's vectors, kept current from the
                  change feed, so a query never reads 100,000 vectors from disk
    indexer.py    embeds what is pending (new and changed entries), in batches
    ranking.py    semantic and hybrid rankings (reciprocal rank fusion), filters,
                  cursors
    engine.py     the one object the manager holds: model state, index, search,
                  index(), stats

Nothing here runs on a write: a write, a hook or ``put`` never imports this
package's heavy modules (numpy, onnxruntime, tokenizers), and the store's
vector table (``lifecycle.store.vectors``) is written by the indexer only.
"""
