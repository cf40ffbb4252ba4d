# Driver run by hpr::python inside the project's Python: runs the setup of the environment variable
# HPR_PY_SETUP once, then compiles statements and times batches of them on request. Several
# statements share the setup's names: a session's candidates are one interpreter, not one each.
# Protocol, one line each: hpr sends "STMT <id> <statement as a JSON string>", answered "OK", or
# "<id> <loop count>", answered "OK <seconds>". Anything that fails answers "ERR" followed by the
# traceback and a line "END". The setup answers "READY <implementation> <version>", or fails so.
#
# timeit.Timer would run the setup again before every batch, and the planner asks for several
# batches: a setup that builds a million-element input, or compiles a function with Numba, paid
# that again for each. So the setup runs once, as data built in an IPython session before
# %timeit, and each batch only binds its names as the statement's locals (as timeit's template
# makes the setup's names), which costs a dictionary lookup per name. A statement that changes
# the setup's data sees its own changes in later batches, and so do the session's others.
import json
import os
import platform
import sys
import timeit
import traceback
import types


def answer(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def fail():
    answer("ERR\n" + traceback.format_exc() + "END")


# The names timeit's template uses for itself, which the setup's must not replace.
TIMEIT_NAMES = {"_it", "_timer", "_t0", "_t1", "_i"}


def bind_names(namespace):
    return "\n".join(
        f"{name} = _hpr_setup[{name!r}]"
        for name in namespace
        if name.isidentifier() and not name.startswith("__") and name not in TIMEIT_NAMES
    )


try:
    # The setup runs as a module that `import` finds, so that what it defines pickles by name:
    # multiprocessing (a Pool's map, a Manager's queues) sends functions to its workers that way.
    module = types.ModuleType("__hpr_setup__")
    sys.modules[module.__name__] = module
    setup = module.__dict__
    exec(compile(os.environ["HPR_PY_SETUP"], "<setup>", "exec"), setup)
    binding = bind_names(setup) or "pass"
except BaseException:
    fail()
    sys.exit(0)
answer(f"READY {platform.python_implementation()} {platform.python_version()}")
timers = {}
for line in sys.stdin:
    try:
        if line.startswith("STMT "):
            _, key, statement = line.split(" ", 2)
            timer = timeit.Timer(json.loads(statement), binding, globals={"_hpr_setup": setup})
            timers[key] = timer
            answer("OK")
        else:
            key, loops = line.split()
            answer(f"OK {timers[key].timeit(int(loops))!r}")
    except BaseException:
        fail()
