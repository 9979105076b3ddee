"""Layer 1, base: exit codes and one-line messages, files, downloads, hardware, native logs.
Import rule: imports nothing of nstlab.
"""

from nstlab.base.lazy import lazy_names

__getattr__, __dir__ = lazy_names(
    __name__, globals(),
    submodules=("download", "files", "hardware", "jupyter", "lazy", "messages", "native_logs"),
)
