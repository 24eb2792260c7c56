#!/usr/bin/env python3
"""Reference implementation of Jupyter message signing for wire.test.ts: jupyter_client's Session
plus plain hmac. Reads one JSON request on stdin, writes one JSON answer on stdout.

  {"mode": "check", "key": K, "frames": [base64...]}
      -> hmac over the four dict frames (hashlib), Session.sign of the same frames, and what
         Session.deserialize makes of the frames (it raises on a bad signature).
  {"mode": "make", "key": K, "header": {...}, "content": {...}, "buffers": [base64...], "ident": base64}
      -> frames as jupyter_client's Session.send would put them on the wire (buffers appended raw).
"""
import base64
import hashlib
import hmac
import json
import sys

from jupyter_client.session import Session

DELIM = b"<IDS|MSG>"


def check(req):
    key = req["key"].encode()
    frames = [base64.b64decode(f) for f in req["frames"]]
    at = frames.index(DELIM)
    dicts = frames[at + 2 : at + 6]
    session = Session(key=key, signature_scheme="hmac-sha256")
    out = {
        "signature": frames[at + 1].decode(),
        "hmac": hmac.new(key, b"".join(dicts), hashlib.sha256).hexdigest() if key else "",
        "session_sign": session.sign(dicts).decode(),
    }
    try:
        idents, rest = session.feed_identities(frames, copy=True)
        msg = session.deserialize(rest, content=True, copy=True)
        out["deserialized"] = {
            "idents": [base64.b64encode(i).decode() for i in idents],
            "msg_type": msg["header"]["msg_type"],
            "content": msg["content"],
            "buffers": [base64.b64encode(bytes(b)).decode() for b in msg["buffers"]],
        }
    except Exception as err:  # noqa: BLE001 - the test wants the reason as text
        out["error"] = f"{type(err).__name__}: {err}"
    return out


def make(req):
    session = Session(key=req["key"].encode(), signature_scheme="hmac-sha256")
    msg = session.msg(req["header"]["msg_type"], req["content"])
    frames = session.serialize(msg, ident=base64.b64decode(req["ident"]))
    frames.extend(base64.b64decode(b) for b in req["buffers"])
    return {"frames": [base64.b64encode(f).decode() for f in frames], "msg_id": msg["header"]["msg_id"]}


def main():
    req = json.load(sys.stdin)
    out = check(req) if req["mode"] == "check" else make(req)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
