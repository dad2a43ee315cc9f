"""moto's S3 in a process of its own, for the hosted benchmarks.

In the bench's own process moto's request handling would share one GIL with the load generator
and skew both; in a child it competes only for the CPU, as a real S3 would not at all. The server
is the tests' one (imported from tests/, which benches may use): it serialises writes, so
conditional puts are atomic as on real S3.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3

from tests.moto_server import FAKE_AWS_ENV, AtomicWritesMotoServer


def aws_env() -> dict[str, str]:
    """This process's environment with fake credentials and nothing that could point at AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIPRISM_"))}
    return {**env, **FAKE_AWS_ENV}


@dataclass(frozen=True)
class FakeS3:
    url: str
    pid: int


@contextmanager
def fake_s3(*buckets: str) -> Iterator[FakeS3]:
    """Start the server in a child process with `buckets` created."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_s3"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=aws_env(),
    )
    try:
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the fake S3 did not start (it printed {url!r})")
        s3 = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing"
        ).client("s3", endpoint_url=url, region_name="us-east-1")
        for bucket in buckets:
            s3.create_bucket(Bucket=bucket)
        yield FakeS3(url, process.pid)
    finally:
        process.stdin.close()  # the child's signal to stop
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def main() -> None:
    """Serve on a free port, print the URL, stop when the parent closes stdin (or dies)."""
    server = AtomicWritesMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
