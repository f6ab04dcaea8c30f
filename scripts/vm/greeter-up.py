#!/usr/bin/env python3
"""Greeter experiment: `vmctl.py up` with another display adapter (default virtio-vga), because
wlroots 0.15 (cage in Debian 12) refuses bochs-drm (qemu's std VGA): "PRIME import not supported".
Usage: scripts/vm/greeter-up.py [--vga virtio] then vmctl.py's `up` arguments."""
import sys
import vmctl

vga = "virtio"
args = sys.argv[1:]
if args[:1] == ["--vga"]:
    vga, args = args[1], args[2:]
orig = vmctl.Vm._argv

def _argv(self, accel):
    argv = orig(self, accel)
    i = argv.index("-vga")
    argv[i + 1] = vga
    return argv

vmctl.Vm._argv = _argv
sys.exit(vmctl.main(args))
