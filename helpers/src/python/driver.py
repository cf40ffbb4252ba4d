# Driver run by hpr::python inside the project's Python: runs the setup of the environment variable
# HPR_PY_SETUP once, compiles a timeit.Timer for the statement of HPR_PY_STMT, then times batches
# on request.
# Protocol, one line each: hpr sends a loop count; the driver answers "OK <seconds>", or
# "ERR" followed by the traceback and a line "END". A failing setup answers the same way first.
#
# timeit.Timer would run the setup again before every batch, and the planner asks for several
# batches: a setup that builds a million-element input, or compiles a function with Numba, paid
# that again for each. So the setup runs once, as data built in an IPython session before
# %timeit, and each batch only binds its names as the statement's locals (as timeit's template
# makes the setup's names), which costs a dictionary lookup per name. A statement that changes
# the setup's data sees its own changes in later batches.
import os
import platform
import sys
import timeit
import traceback


def fail():
    sys.stdout.write("ERR\n" + traceback.format_exc() + "END\n")
    sys.stdout.flush()


# The names timeit's template uses for itself, which the setup's must not replace.
TIMEIT_NAMES = {"_it", "_timer", "_t0", "_t1", "_i"}


def bind_names(namespace):
    return "\n".join(
        f"{name} = _hpr_setup[{name!r}]"
        for name in namespace
        if name.isidentifier() and not name.startswith("__") and name not in TIMEIT_NAMES
    )


try:
    setup = {"__name__": "__hpr_setup__"}
    exec(compile(os.environ["HPR_PY_SETUP"], "<setup>", "exec"), setup)
    timer = timeit.Timer(
        os.environ["HPR_PY_STMT"], bind_names(setup) or "pass", globals={"_hpr_setup": setup}
    )
    timer.timeit(0)  # binds the names now, so a statement that does not compile fails here
except BaseException:
    fail()
    sys.exit(0)
sys.stdout.write(f"READY {platform.python_implementation()} {platform.python_version()}\n")
sys.stdout.flush()
for line in sys.stdin:
    try:
        seconds = timer.timeit(int(line))
        sys.stdout.write(f"OK {seconds!r}\n")
        sys.stdout.flush()
    except BaseException:
        fail()
