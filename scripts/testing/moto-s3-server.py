#!/usr/bin/env python3
"""A throw-away S3-compatible server for Atelier's tests: moto in server mode on a free
loopback port, with IAM authentication switched on so every request's SigV4 signature is
checked. Creates a user with full access and one bucket, writes
{"endpoint", "access_key_id", "secret_access_key", "bucket", "region"} as JSON to the file
named by the first argument, and serves until its parent process goes away."""
import json
import os
import sys

# Requests before authentication is enforced: the four set-up calls below, nothing more.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from throwaway_server import publish, serve_while_parent_lives  # noqa: E402


def main() -> None:
    info_path = sys.argv[1]
    bucket = sys.argv[2] if len(sys.argv) > 2 else "atelier-test"
    parent = os.getppid()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    setup = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="atelier")
    key = iam.create_access_key(UserName="atelier")["AccessKey"]
    iam.put_user_policy(UserName="atelier", PolicyName="everything", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }))
    boto3.client("s3", **setup).create_bucket(Bucket=bucket)
    info = {"endpoint": endpoint, "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"],
            "bucket": bucket, "region": "us-east-1"}
    publish(info, info_path)
    serve_while_parent_lives(parent)
    server.stop()


if __name__ == "__main__":
    main()
