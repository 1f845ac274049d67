"""LlamaIndex's retrieval on a BEIR-layout test set, as TREC runs for `engine compare --run`.

The same bge-small-en-v1.5 ONNX files, query prefix, threads and batch size as the engine's eval
pipelines; LlamaIndex's own defaults everywhere else: Documents with the title as metadata
(which LlamaIndex puts into the text it embeds), SentenceSplitter (1,024 tokens, 200 overlap),
VectorStoreIndex (exact cosine), BM25Retriever (bm25s, English stemmer and stopwords) and
QueryFusionRetriever (reciprocal-rank fusion, k = 60) for hybrid. Documents are ranked by their
best chunk, as `engine compare` ranks them.

    python bench/llamaindex_runs.py ../shared/eval/ir/medline OUT_DIR
    engine compare pipelines/eval-medline.yaml --queries … --qrels … \
        --run llamaindex-bm25=OUT_DIR/bm25.trec --run llamaindex-vector=OUT_DIR/vector.trec \
        --run llamaindex-hybrid=OUT_DIR/hybrid.trec
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from onnx_bge import QUERY_PREFIX, onnx_bge_embedding  # noqa: E402

DEPTH = 100


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("collection", type=Path, help="folder with corpus.jsonl and queries.jsonl")
    parser.add_argument("out", type=Path, help="folder for bm25.trec, vector.trec, hybrid.trec")
    parser.add_argument("--model", type=Path, default=Path("models/bge-small-en-v1.5"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    import Stemmer
    from llama_index.core import Settings, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.schema import Document
    from llama_index.retrievers.bm25 import BM25Retriever

    Settings.embed_model = onnx_bge_embedding(str(args.model), args.threads, args.batch_size)
    Settings.llm = None
    corpus = [json.loads(line) for line in open(args.collection / "corpus.jsonl")]
    queries = [json.loads(line) for line in open(args.collection / "queries.jsonl")]
    documents = [
        Document(text=d["text"], id_=str(d["_id"]), metadata={"title": d["title"]} if d.get("title") else {})
        for d in corpus
    ]
    started = time.perf_counter()
    nodes = SentenceSplitter().get_nodes_from_documents(documents)
    index = VectorStoreIndex(nodes, show_progress=False)
    built = time.perf_counter() - started
    vector = index.as_retriever(similarity_top_k=DEPTH * 3)
    bm25 = BM25Retriever.from_defaults(
        nodes=nodes, similarity_top_k=DEPTH * 3, stemmer=Stemmer.Stemmer("english"), language="english"
    )
    hybrid = QueryFusionRetriever(
        [vector, bm25], similarity_top_k=DEPTH * 3, num_queries=1, mode="reciprocal_rerank", use_async=False
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for name, retriever in [("bm25", bm25), ("vector", vector), ("hybrid", hybrid)]:
        lines = []
        for query in queries:
            seen = set()
            for hit in retriever.retrieve(query["text"]):
                doc = hit.node.ref_doc_id
                if doc in seen or len(seen) == DEPTH:
                    continue
                seen.add(doc)
                lines.append(f"{query['_id']} Q0 {doc} {len(seen)} {hit.score:.6f} llamaindex-{name}")
        (args.out / f"{name}.trec").write_text("\n".join(lines) + "\n")
    print(f"{len(documents)} documents, {len(nodes)} chunks, built in {built:.1f}s; runs in {args.out}")


if __name__ == "__main__":
    main()
