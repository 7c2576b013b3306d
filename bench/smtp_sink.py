"""The digest benchmark's SMTP server: accepts every message, counts it and throws it away.

``python bench/smtp_sink.py PORT STATUS_FILE`` listens on 127.0.0.1:PORT and keeps
STATUS_FILE at ``<messages> <first> <last>``: how many messages it accepted and the
``time.monotonic()`` of the first and the latest (the system-wide clock on Linux, so the
benchmark can compare it with its own). It runs in a process of its own, so its CPU is not
counted as the worker's, and keeps no message, so its memory stays flat.

Just the commands ``smtplib`` sends, on asyncio streams, rather than aiosmtpd: aiosmtpd
handles a message line by line in Python (about 1.6 ms of CPU for a 12 KB message), which on
two cores would take a good part of one from the worker being measured; finding the end of
the data with ``readuntil`` costs a few microseconds.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

# How often the status file is rewritten: fine enough for timing 10,000 messages to the tenth of a second.
STATUS_INTERVAL = 0.05
# Larger than any digest; readuntil needs a bound.
MAX_MESSAGE = 64 * 1024 * 1024


class Counter:
    def __init__(self) -> None:
        self.messages = 0
        self.first = 0.0
        self.last = 0.0

    def count(self) -> None:
        self.last = time.monotonic()
        if not self.messages:
            self.first = self.last
        self.messages += 1


async def session(counter: Counter, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 bench-sink ESMTP\r\n")
    try:
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-bench-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                # The data ends with a line holding one dot; a dot at the start of a data line is doubled.
                await reader.readuntil(b"\r\n.\r\n")
                counter.count()
                writer.write(b"250 OK\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 Bye\r\n")
                break
            else:  # HELO, MAIL FROM, RCPT TO, RSET, NOOP: all accepted
                writer.write(b"250 OK\r\n")
            await writer.drain()
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def write_status(counter: Counter, path: Path) -> None:
    partial = path.with_suffix(".partial")
    written = None
    while True:
        status = f"{counter.messages} {counter.first} {counter.last}\n"
        if status != written:
            # Written aside and renamed: the benchmark never reads half a line.
            partial.write_text(status)
            partial.replace(path)
            written = status
        await asyncio.sleep(STATUS_INTERVAL)


async def main(port: int, status: Path) -> None:
    counter = Counter()
    server = await asyncio.start_server(
        lambda reader, writer: session(counter, reader, writer), "127.0.0.1", port, limit=MAX_MESSAGE
    )
    print(f"listening on 127.0.0.1:{port}, pid {os.getpid()}", flush=True)
    async with server:
        await write_status(counter, status)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2])))
