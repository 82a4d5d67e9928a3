import gc
import sys

# Start-up allocates the long-lived objects of every module imported (classes, compiled
# templates, pydantic validators): collecting them again and again while importing cost a
# tenth to a sixth of a worker's start (issue 12, first reply after a restart). `serve` and
# `worker` turn the collector back on once started (bot.runtime.settle_gc), other commands
# at once.
gc.disable()

from bot.cli import main  # noqa: E402  (after the collector is off)

sys.exit(main())
