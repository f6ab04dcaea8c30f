#!/usr/bin/env python3
"""Proves the VM harness end to end on the cached image, and measures it.

Usage: scripts/vm/smoke.py --image DIR [--shots DIR] [--xfce] [--mem MiB]

Boots the guest (KVM, else TCG), checks greetd's greeter on screen, the serial console
(`systemctl is-system-running`, `loginctl`), the guestfwd to a host HTTP server on 127.0.0.1
and that nothing else is reachable, `set_link` off and on, then types a user name at the
greeter (send-key) and waits for the X11 + openbox desktop, ends that session and sees the
greeter come back; with --xfce, opens an Xfce session through greetd's [initial_session].
Prints each step's time and a summary; exits non-zero at the first failed check.
"""

import argparse
import http.server
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmctl import CheckFailed, Vm, log, until  # noqa: E402

BODY = b"poste-vm smoke: hello from the host\n"
FETCH = ("exec 3<>/dev/tcp/10.0.2.100/8001 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3"
         " && timeout 10 cat <&3")
# The autologin-like session of the Xfce measure (the image's own config has no
# [initial_session]: the product's gate decides when a visitor's session opens).
XFCE_CONFIG = """[terminal]
vt = 7
[default_session]
command = "/usr/sbin/agreety --cmd 'startx /etc/X11/Xsession openbox-session'"
user = "_greetd"
[initial_session]
command = "startx /etc/X11/Xsession startxfce4"
user = "visiteur"
"""
# X clients as root need the session's cookie.
XENV = "export DISPLAY=:0 XAUTHORITY=/home/visiteur/.Xauthority; "


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--shots", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "shots"))
    ap.add_argument("--run", default="/tmp/poste-vm-smoke")
    ap.add_argument("--mem", type=int, default=1024)
    ap.add_argument("--accel", default="auto")
    ap.add_argument("--xfce", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.shots, exist_ok=True)
    figures = {}

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]

    vm = Vm(a.image, a.run, fwd_port=port, mem=a.mem, accel=a.accel)
    try:
        figures["boot to serial shell"] = vm.start()
        figures["accelerator"] = vm.used

        def sh_ok(cmd, timeout=60):
            out, rc = vm.sh(cmd, timeout=timeout)
            if rc != 0:
                raise SystemExit(f"FAILED: `{cmd}` exited {rc}:\n{out}")
            return out

        # The greeter: greetd's session of _greetd on seat0, drawn on the screen.
        until("greeter session", lambda: "_greetd seat0" in vm.sh("loginctl list-sessions")[0], 120)
        until("greeter on screen", lambda: vm.screen_stats()[0] > 1, 60)
        figures["boot to greeter"] = time.monotonic() - vm.t0
        vm.screendump(os.path.join(a.shots, "01-greeter-agreety.png"))

        until("system running",
              lambda: vm.sh("systemctl is-system-running")[0].strip() in ("running", "degraded"), 120)
        print(sh_ok("systemctl is-system-running; systemctl --failed --no-legend; loginctl list-sessions"))

        # The --deb layer, when the image has one: each package installed and configured.
        debs_file = os.path.join(a.image, "debs")
        if os.path.exists(debs_file):
            for deb in open(debs_file).read().split():
                name = subprocess.run(["dpkg-deb", "-f", deb, "Package"], capture_output=True,
                                      text=True, check=True).stdout.strip()
                print(sh_ok(f"dpkg-query -W -f '${{Package}} ${{Version}} ${{Status}}\\n' {name}"))

        # Network: the forward works, nothing else answers; the cable can be pulled.
        out = sh_ok(FETCH)
        assert BODY.decode() in out, out
        print("guestfwd 10.0.2.100:8001 -> 127.0.0.1:%d: ok" % port)
        for target in ["10.0.2.2/22", f"10.0.2.2/{port}", "10.0.2.3/53", "1.1.1.1/80",
                       "10.0.2.100/8002"]:
            _, rc = vm.sh(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{target}'")
            if rc == 0:
                raise SystemExit(f"FAILED: the guest reached {target}")
        _, rc = vm.sh("getent hosts deb.debian.org")
        if rc == 0:
            raise SystemExit("FAILED: the guest resolved a name")
        print("restrict=on: nothing else reachable, no DNS: ok")
        if os.path.exists(debs_file):
            print(sh_ok("cat /run/poste-vm-dummy 2>/dev/null || true"))
        vm.set_link(False)
        _, rc = vm.sh(FETCH.replace("timeout 10", "timeout 5"), timeout=30)
        if rc == 0:
            raise SystemExit("FAILED: fetched with the link down")
        vm.set_link(True)
        figures["link back up to fetch"] = until(
            "fetch after set_link on", lambda: BODY.decode() in vm.sh(FETCH)[0], 60)
        print("set_link off/on: ok")

        # X11 + openbox, logged in by typing at the greeter.
        t0 = time.monotonic()
        vm.type_text("visiteur\n")
        until("openbox's xterm mapped",
              lambda: vm.sh(XENV + "xwininfo -root -tree | grep -q '(\"xterm\" \"XTerm\")'")[1] == 0, 120)
        figures["greeter login to openbox desktop"] = time.monotonic() - t0
        vm.wait_screen_settled(60)  # the terminal's first paint
        vm.screendump(os.path.join(a.shots, "02-x11-openbox.png"))
        print(sh_ok("loginctl list-sessions; loginctl show-session $(loginctl list-sessions --no-legend"
                    " | awk '$3==\"visiteur\"{print $1}') -p Type -p State -p VTNr -p Remote"))
        print(sh_ok("systemctl --user -M visiteur@ show-environment | grep -E '^(DISPLAY|XAUTHORITY)='"))
        figures["guest memory used, openbox (MiB)"] = int(sh_ok("free -m | awk '/^Mem:/{print $3}'"))

        # Ending the session brings the greeter back.
        t0 = time.monotonic()
        sh_ok("loginctl terminate-user visiteur")
        until("visiteur's session gone",
              lambda: "visiteur" not in vm.sh("loginctl list-sessions --no-legend")[0], 30, every=0.3)
        figures["terminate-user to session gone"] = time.monotonic() - t0
        until("greeter back", lambda: "_greetd seat0" in vm.sh("loginctl list-sessions")[0], 30, every=0.3)
        figures["terminate-user to greeter back"] = time.monotonic() - t0
        time.sleep(1)
        vm.screendump(os.path.join(a.shots, "03-greeter-back.png"))

        if a.xfce:
            # greetd runs [initial_session] once per boot; /run/greetd.run records that it ran.
            sh_ok("cat >/etc/greetd/config.toml <<'EOF'\n" + XFCE_CONFIG + "EOF\n"
                  "rm -f /run/greetd.run; systemctl restart greetd")
            t0 = time.monotonic()
            until("Xfce desktop and panel mapped",
                  lambda: vm.sh(XENV + "xwininfo -root -tree | grep -q '\"Desktop\": (\"xfdesktop\"'"
                                " && xwininfo -root -tree | grep -q '1280x27+0+0'")[1] == 0, 240, every=2)
            # Drawn: the desktop's background, not X's black, fills most of the screen.
            # Painted: not X's black, and the top panel's strip unlike the desktop behind it.
            vm.wait_screen_settled(180, accept=lambda st: st[1] != "000000"
                                   and vm.screen_stats(region=(0, 0, 1280, 24))[1] != st[1])
            figures["greetd start to Xfce desktop"] = time.monotonic() - t0
            vm.screendump(os.path.join(a.shots, "04-x11-xfce.png"))
            figures["guest memory used, Xfce (MiB)"] = int(sh_ok("free -m | awk '/^Mem:/{print $3}'"))
            print(sh_ok("systemd-inhibit --list --no-pager"))

        rss = int([l for l in open(f"/proc/{vm.pid()}/status") if l.startswith("VmRSS")][0].split()[1])
        figures["qemu RSS on the host (MiB)"] = rss // 1024
        t0 = time.monotonic()
        figures["shutdown"] = vm.stop(timeout=60)
        figures["shutdown time"] = time.monotonic() - t0
    finally:
        if vm.alive():
            vm.kill()
        httpd.shutdown()
    print("\nfigures:")
    for k, v in figures.items():
        print(f"  {k:40} {v:.1f} s" if isinstance(v, float) else f"  {k:40} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
