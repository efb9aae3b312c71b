#!/usr/bin/env python3
"""Presigns an S3 GET with botocore (AWS's own Python implementation of SigV4), at a fixed
time, so tests can compare Atelier's presigned URLs with an independent signer.
Usage: botocore-presign.py URL ACCESS_KEY SECRET REGION UNIX_SECONDS EXPIRES"""
import datetime
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

url, access_key, secret, region, seconds, expires = sys.argv[1:7]
fixed = datetime.datetime.fromtimestamp(int(seconds), tz=datetime.timezone.utc).replace(tzinfo=None)
botocore.auth.get_current_datetime = lambda *args, **kwargs: fixed
request = AWSRequest(method="GET", url=url, headers={})
botocore.auth.S3SigV4QueryAuth(Credentials(access_key, secret), "s3", region, expires=int(expires)).add_auth(request)
print(request.prepare().url)
