"""`vitrina-reco [--host H --port P]`: reco-service under uvicorn (uvloop, httptools)."""

import argparse
import logging
import sys

import uvicorn

from vitrina_reco.app import create_app
from vitrina_reco.settings import RecoSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vitrina-reco", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    args = parser.parse_args(argv)
    settings = RecoSettings()
    # Access-log lines are JSON objects; this prefix keeps them greppable by time and logger.
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
