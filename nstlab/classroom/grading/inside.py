"""The program that runs in the sandbox: the student's notebook, cell by cell, and the
grader's calls of the student's functions.

Started by the grader as ``python -I -B -m nstlab.classroom.grading.inside`` (inside
bubblewrap, :mod:`nstlab.classroom.grading.sandbox`). It trusts nothing it runs and is
trusted by nobody: the grader reads only the plain-data frames it writes
(:mod:`nstlab.classroom.grading.protocol`) and decides every grade itself.

1. It copies ``/sandbox/submission`` (the student's staged folder) into ``/sandbox/work``.
2. It reads the plan: the code cells, and which of them call an exercise's check.
3. It runs the cells in order in one namespace, as *Run All* does, saying which cell
   runs. The first cell that raises stops the notebook (with ``keep_going`` it goes on:
   the grader's second run, against the refusing nstlab).
4. At a check cell it does not run the check: it tells the grader, evaluates the
   argument expressions the grader sends (``gram_matrix``), and calls the student's
   functions on the inputs the grader sends, until the grader says continue; with each
   result go the gradients the student's code kept (:mod:`~nstlab.classroom.grading.gradients`).
   Then it runs the cell. Its checks do nothing here (they return ``None``), but the rest
   of the cell runs, and a name it assigns (``done = check_...(...)``) exists for the cells
   after it, as in Jupyter. A check cell that raises stops nothing: its exercise is judged.

The student's code can do anything here, including writing to the channel; it can only
make its own answers wrong.
"""

from __future__ import annotations

import argparse
import linecache
import os
import shutil
import sys

from nstlab.classroom.grading import protocol
from nstlab.classroom.grading.gradients import call_with_gradients


def _tensors(array, variable: bool):
    import tensorflow as tf

    return tf.Variable(array) if variable else tf.constant(array)


class Driver:
    """The notebook's namespace and the student's functions the grader may call."""

    def __init__(self, requests: int, answers: int) -> None:
        self.requests, self.answers = requests, answers
        self.namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
        self.handles: dict[int, object] = {}

    def send(self, message: dict) -> None:
        protocol.write_frame(self.answers, message)

    def encode(self, value):
        return protocol.encode(value, self.handles)

    def decode(self, data):
        return protocol.decode(data, tensors=_tensors)

    def run(self) -> None:
        plan = protocol.read_frame(self.requests)
        os.chdir(plan["folder"])
        sys.path.append(os.getcwd())  # last: the student's files never shadow a module
        checks = {int(index): names for index, names in plan["checks"].items()}
        for index, source in plan["cells"]:
            self.send({"cell": index})
            for name in checks.get(index, ()):
                self.send({"check": name, "cell": index})
                self.serve(plan["tasks"][name])
            filename = f"<cell {index + 1}>"
            # as IPython does: the source stays readable (inspect.getsource, tracebacks)
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            try:
                exec(compile(source, filename, "exec"), self.namespace)  # noqa: S102
            except BaseException as error:  # SystemExit and KeyboardInterrupt too: a stop
                if index in checks:
                    continue  # its exercise is judged already: its own failure stops nothing
                self.send({"error": protocol.raised(error), "cell": index})
                if not plan["keep_going"]:
                    break
        self.send({"done": True})

    def serve(self, arguments: list[str]) -> None:
        """Answer the grader's requests for one exercise until it says continue."""
        while True:
            request = protocol.read_frame(self.requests)
            if request.get("op") == "continue":
                return
            try:
                if request.get("op") == "evaluate":
                    values = [eval(expression, self.namespace)  # noqa: S307 (the teacher's)
                              for expression in arguments]
                    reply = {"value": [self.encode(value) for value in values]}
                else:
                    reply = self.call(request)
            except protocol.Unsendable as error:
                reply = {"unsendable": str(error)}
            except BaseException as error:  # the student's code raised: a plain report
                reply = {"raised": protocol.raised(error)}
            self.send({"reply": reply})

    def call(self, request: dict) -> dict:
        function = self.handles[int(request["handle"])]
        args = self.decode(request["args"])
        kwargs = self.decode(request["kwargs"])
        result, gradients = call_with_gradients(function, args, kwargs)
        after = []
        for value in args:
            try:
                after.append(protocol.encode(value))
            except protocol.Unsendable:
                after.append(None)
        reply = {"value": self.encode(result), "after": after}
        if gradients is not None:
            reply["gradients"] = [None if g is None else protocol.encode(g) for g in gradients]
        return reply


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nstlab.classroom.grading.inside")
    parser.add_argument("--submission", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--answers", type=int, required=True)
    args = parser.parse_args(argv)
    shutil.copytree(args.submission, args.work, dirs_exist_ok=True)
    os.makedirs(os.path.join(args.work, ".home"), exist_ok=True)
    os.chdir(args.work)
    Driver(args.requests, args.answers).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
