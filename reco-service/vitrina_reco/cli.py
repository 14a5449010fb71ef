"""`vitrina-reco [--host H --port P]`: reco-service under uvicorn (uvloop, httptools)."""

import argparse
import logging
import sys

import uvicorn
from pydantic import ValidationError

from vitrina_reco.access import ACCESS_LOGGER
from vitrina_reco.app import create_app
from vitrina_reco.settings import RecoSettings
from vitrina_shared.settings import settings_problem


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vitrina-reco", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        settings = RecoSettings()
    except ValidationError as exc:  # one line in the container's log, no traceback
        parser.exit(2, f"vitrina-reco: error: {settings_problem(exc)}\n")
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    # Access-log lines are whole JSON objects (they carry their own time), one per line.
    access = logging.getLogger(ACCESS_LOGGER)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(handler)
    access.propagate = False
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
