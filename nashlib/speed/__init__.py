"""Speed: the latency protocol (``timing``), per-component profiling (``components``), beam search without
cross-attention cache copies (``fastgen``) and timing in a fresh process (``bench``)."""
