"""Where the code is running: inside a Jupyter kernel (a notebook) or not."""


def in_notebook() -> bool:
    """True inside a Jupyter kernel (a notebook), False in a script or a terminal IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")
