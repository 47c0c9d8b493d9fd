"""Defaults shared by the library and its commands (one number, one place)."""

#: Images per encoder/decoder call where the caller does not say: large enough to keep a GPU
#: busy on the small images autoenc trains on, small enough for a CPU's memory.
DEFAULT_BATCH_SIZE = 512
