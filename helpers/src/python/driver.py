# Driver run by hpr::python inside the project's Python: compiles one timeit.Timer from the
# environment variables HPR_PY_SETUP and HPR_PY_STMT, then times batches on request.
# Protocol, one line each: hpr sends a loop count; the driver answers "OK <seconds>", or
# "ERR" followed by the traceback and a line "END". A failing setup answers the same way first.
import os
import platform
import sys
import timeit
import traceback


def fail():
    sys.stdout.write("ERR\n" + traceback.format_exc() + "END\n")
    sys.stdout.flush()


try:
    timer = timeit.Timer(os.environ["HPR_PY_STMT"], os.environ["HPR_PY_SETUP"])
    timer.timeit(0)  # runs the setup now, so its errors are reported before any timing
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
