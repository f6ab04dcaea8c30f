#!/usr/bin/python3
"""Stand-in for the gate's greetd IPC: read a line; empty or digits -> open `visiteur`'s openbox session, "x" -> its Xfce session,
anything else -> try that user name. JSON, 4-byte native-endian length prefix, on $GREETD_SOCK."""
import json, os, socket, struct, sys, time

def log(*a):
    with open("/tmp/gate.log", "a") as f:
        print(f"greet {time.time():.3f}", *a, file=f)

def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b

def rt(s, obj):
    b = json.dumps(obj).encode()
    s.sendall(struct.pack("=I", len(b)) + b)
    (n,) = struct.unpack("=I", recvn(s, 4))
    r = json.loads(recvn(s, n))
    log("sent", obj.get("type"), "got", r)
    return r

while True:
    print("Code (greeter de test) : ", end="", flush=True)
    line = "".join(c for c in sys.stdin.readline() if c.isprintable()).strip()  # see GREETER-EXPERIMENT.md (cage: stray \x88)
    log("typed", repr(line))
    desktop = "xfce4-session" if line == "x" else "openbox-session"  # "x": the Xfce session
    user = "visiteur" if (line in ("", "x") or line.isdigit()) else line
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.environ["GREETD_SOCK"])
    r = rt(s, {"type": "create_session", "username": user})
    while r.get("type") == "auth_message":
        r = rt(s, {"type": "post_auth_message_response", "response": ""})
    if r.get("type") != "success":
        print("refusé :", r)
        rt(s, {"type": "cancel_session"})
        continue
    cmd = ["startx", "/etc/X11/Xsession", desktop]
    r = rt(s, {"type": "start_session", "cmd": cmd,
               "env": ["XDG_SESSION_TYPE=x11", "XDG_SESSION_CLASS=user"]})
    if r.get("type") == "success":
        log("start_session ok, greeter exits")
        sys.exit(0)
    print("échec :", r)
