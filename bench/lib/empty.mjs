// An empty program: the baseline for cold-start times (node bootstrap and exit only).
