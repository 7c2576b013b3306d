"""A TCP relay, for .ci/compose-ci.yml: the web replicas sit on Compose's bridge network, behind the proxy,
while CI's PostgreSQL and Redis listen on the host's loopback only. A stand-in container on the host network
runs this, listening on the bridge's gateway address and passing each connection on to loopback.

Usage: python tcp_relay.py LISTEN_HOST:PORT TARGET_HOST:PORT
"""

from __future__ import annotations

import asyncio
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def relay(listen: str, target: str) -> None:
    listen_host, listen_port = listen.rsplit(":", 1)
    target_host, target_port = target.rsplit(":", 1)

    async def connect(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(target_host, int(target_port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    server = await asyncio.start_server(connect, listen_host, int(listen_port))
    print(f"relaying {listen} to {target}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(relay(*sys.argv[1:3]))
