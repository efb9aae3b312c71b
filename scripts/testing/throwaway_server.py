"""What Atelier's throw-away test servers share: how they tell the test process where they
listen, and how long they live."""
import json
import os
import time


def publish(info: dict, path: str) -> None:
    """Writes `info` as JSON to `path` whole: the test process waits for the file to appear."""
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(info, handle)
    os.rename(temporary, path)


def serve_while_parent_lives(parent: int, running=lambda: True) -> None:
    """Returns when the test process that started us is gone (or `running()` turns false)."""
    while os.getppid() == parent and running():
        time.sleep(0.5)
