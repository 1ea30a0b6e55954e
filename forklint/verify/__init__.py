"""`forklint verify`: run a job on a real forking RQ worker, stock and pre-forked, and measure every horse."""
