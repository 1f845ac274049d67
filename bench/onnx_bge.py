"""bge-small-en-v1.5 on onnxruntime as a LlamaIndex embedding model, as the engine embeds: CLS
pooling, L2-normalized, each batch padded to its longest text. Shared by bench/e2e_bench.py and
bench/llamaindex_runs.py (both run in the venv `just bench-e2e` makes)."""

import time
from pathlib import Path

QUERY_PREFIX = "Represent this sentence for searching relevant passages: "


def onnx_bge_embedding(model_dir, threads: int, batch_size: int):
    """The model in `model_dir` (model_quantized.onnx, tokenizer.json) as a `BaseEmbedding`; its
    `_stats` count texts, tokens, padded tokens and seconds spent in it."""
    import numpy as np
    import onnxruntime as ort
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr
    from tokenizers import Tokenizer

    class OnnxBgeEmbedding(BaseEmbedding):
        """bge-small-en-v1.5 through onnxruntime: CLS pooling, L2-normalized, as the engine does."""

        model_dir: str
        threads: int
        max_length: int = 512
        _session: object = PrivateAttr()
        _tokenizer: object = PrivateAttr()
        _inputs: list = PrivateAttr()
        _stats: dict = PrivateAttr()

        def __init__(self, model_dir: str, threads: int, batch_size: int):
            super().__init__(model_name="bge-small-en-v1.5 (int8, onnx)", model_dir=model_dir,
                             threads=threads, embed_batch_size=batch_size)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            self._session = ort.InferenceSession(str(Path(model_dir) / "model_quantized.onnx"),
                                                 options, providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
            self._tokenizer.no_padding()
            self._tokenizer.enable_truncation(self.max_length)
            self._inputs = [i.name for i in self._session.get_inputs()]
            self._stats = {"texts": 0, "tokens": 0, "padded": 0, "seconds": 0.0}

        def _embed(self, texts):
            # One call is one batch of `embed_batch_size` texts (LlamaIndex batches them in
            # order); it is padded to its longest text, as the engine pads each of its batches.
            begun = time.perf_counter()
            encodings = self._tokenizer.encode_batch(texts)
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(texts), width), dtype=np.int64)
            mask = np.zeros((len(texts), width), dtype=np.int64)
            for row, encoding in enumerate(encodings):
                ids[row, : len(encoding.ids)] = encoding.ids
                mask[row, : len(encoding.ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, {name: feeds[name] for name in self._inputs})[0]
            cls = hidden[:, 0, :]
            cls = cls / np.linalg.norm(cls, axis=1, keepdims=True)
            self._stats["texts"] += len(texts)
            self._stats["tokens"] += int(mask.sum())
            self._stats["padded"] += ids.size
            self._stats["seconds"] += time.perf_counter() - begun
            return cls.tolist()

        def _get_query_embedding(self, query: str):
            return self._embed([QUERY_PREFIX + query])[0]

        async def _aget_query_embedding(self, query: str):
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str):
            return self._embed([text])[0]

        def _get_text_embeddings(self, texts):
            return self._embed(texts)

    return OnnxBgeEmbedding(str(model_dir), threads, batch_size)
