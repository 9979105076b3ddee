"""Test configuration shared by the unit tests (tests/) and the notebooks run by nbval.

- Quick mode (``NSTLAB_QUICK=1``): notebooks pick tiny images and few steps.
- Strict checks (``NSTLAB_STRICT_CHECKS=1``): an exercise check that rejects an answer raises.
- Matplotlib draws off screen (Agg).
- TensorFlow's native log level is the one nstlab sets for a user who chose none (2, marked
  as nstlab's own), so the commands and notebook kernels the tests start filter TensorFlow's
  native lines as they do for that user. A level you set yourself is kept, as for a user.

Nothing here needs the network or files outside the repository: the sample paintings ship
inside the package (``nstlab/imaging/paintings``) and the photo with matplotlib.
"""

import os


def pytest_configure(config):
    os.environ.setdefault("NSTLAB_QUICK", "1")
    # A wrong reference solution must fail the notebook tests, not just print.
    os.environ.setdefault("NSTLAB_STRICT_CHECKS", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    from nstlab.base import native_logs

    native_logs.quiet_by_default()
