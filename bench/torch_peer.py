"""What both torch comparisons (compare_torch.py, compare_torch_cli.py) do alike on torch's side.

(a), the loop of one nn.EmbeddingBag per table, keeps its T outputs until the call returns, as
DLRM's forward does (its list `ly`, concatenated with the dense features afterwards). A loop that
drops each output at once lets every table write into the one block malloc hands back again,
which stays in L2: at criteo-kaggle dim 64, batch 2048, one thread, that loop took 1809 us where
the one that keeps its outputs took 2190 (13 MiB written, as embflow writes its [B, T, E]); at
dim 16 978 and 1040 us.

The process keeps the memory it frees (glibc's trim threshold raised, and blocks of up to 32 MiB,
glibc's most, from the heap instead of mmap), as a serving process with a caching allocator does,
so that neither method pays page faults for its outputs on every call. With glibc's defaults the
loop that keeps its outputs returned the heap's top to the system after each call and faulted it
in again on the next: 2527 us at dim 16, against 1040 with the memory kept. (Setting any of
glibc's thresholds turns off its own adjustment of both, so both are set.)
"""
import ctypes

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory():
    """Returns a line saying what was set (or that it could not be)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        # mallopt takes a C int: 2 GiB - 1 is the largest trim threshold it can be given.
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20) == 1 and libc.mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1) == 1
    except OSError:
        ok = False
    return ("freed memory kept by the process (glibc mallopt: trim threshold 2 GiB, mmap threshold 32 MiB)"
            if ok else "freed memory NOT kept (no glibc mallopt): torch's outputs may fault on every call")


def loop_forward(bags, inputs):
    """(a): one nn.EmbeddingBag per table, on (indices, offsets) pairs; the T outputs kept, returned."""
    return [bag(idx, off) for bag, (idx, off) in zip(bags, inputs)]
