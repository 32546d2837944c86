#!/usr/bin/env python3
"""A small HL7 v2 MLLP listener for the iomt-sensor test captures.

It accepts connections one after another, reads MLLP frames
(0x0B message 0x1C 0x0D), several per connection, and answers each message
with an original-mode acknowledgement: MSA|AA, or MSA|AE plus an ERR segment
for the message whose MSH-10 control id is given with --nack. The ACK's MSH-7
is copied from the message so that runs are repeatable. Standard library only.

Usage: mllp_listener.py [--host H] [--port P] [--nack CONTROLID]...
                        [--app NAME] [--facility NAME]
"""

import argparse
import signal
import socket
import sys

SB = b"\x0b"
EB = b"\x1c"
CR = b"\x0d"
MAX_MESSAGE = 1 << 20



def ack_for(message, app, facility, nacks):
    """Build the acknowledgement (bytes, without MLLP framing) for one message."""
    text = message.decode("utf-8", "replace")
    segments = [s for s in text.split("\r") if s]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 8:
        return None
    msh = segments[0]
    sep = msh[3]
    enc = msh[4:8]
    f = msh.split(sep)
    # f[0] = "MSH", f[1] = encoding characters, so MSH-n is f[n-1] for n >= 2.

    def msh_field(n):
        return f[n - 1] if len(f) > n - 1 else ""

    comp = enc[0]
    trigger = msh_field(9).split(comp)[1] if comp in msh_field(9) else ""
    control = msh_field(10)
    version = msh_field(12) or "2.6"
    code = "AE" if control in nacks else "AA"
    ack = [
        sep.join([
            "MSH", enc, app, facility, msh_field(3), msh_field(4), msh_field(7), "",
            comp.join(["ACK", trigger, "ACK"]), "ACK" + control, msh_field(11) or "P", version,
        ]),
    ]
    if code == "AA":
        ack.append(sep.join(["MSA", "AA", control]))
    else:
        ack.append(sep.join(["MSA", "AE", control, "Unknown patient location"]))
        ack.append(sep.join([
            "ERR", "", "PV1" + comp + "1" + comp + "3", "", "E",
            comp.join(["204", "Unknown key identifier", "HL70357"]),
        ]))
    return ("\r".join(ack) + "\r").encode("utf-8"), code, control


def serve(conn, app, facility, nacks, log):
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return
        buf += data
        if len(buf) > MAX_MESSAGE:
            return
        while True:
            start = buf.find(SB)
            if start < 0:
                buf = b""
                break
            end = buf.find(EB + CR, start)
            if end < 0:
                buf = buf[start:]
                break
            message = buf[start + 1:end]
            buf = buf[end + 2:]
            answer = ack_for(message, app, facility, nacks)
            if answer is None:
                continue
            reply, code, control = answer
            conn.sendall(SB + reply + EB + CR)
            print("message %s -> %s" % (control, code), file=log, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=2575)
    p.add_argument("--nack", action="append", default=[], help="MSH-10 to answer with AE")
    p.add_argument("--app", default="HL7_ENGINE")
    p.add_argument("--facility", default="ST_ELSEWHERE")
    args = p.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, args.port))
    srv.listen(8)
    print("listening on %s:%d" % (args.host, args.port), flush=True)
    while True:
        conn, peer = srv.accept()
        print("connection from %s:%d" % peer, flush=True)
        with conn:
            serve(conn, args.app, args.facility, set(args.nack), sys.stdout)
        print("connection closed", flush=True)


if __name__ == "__main__":
    main()
