# Test image only: on the serial console, make the shell easy to drive by a program:
# no echo, no line editing, no kernel messages interleaved, a fixed prompt, a marker.
if [ "$(tty)" = /dev/ttyS0 ]; then
    stty -echo -onlcr cols 1000
    set +o emacs +o vi
    dmesg -n 1
    export SYSTEMD_PAGER= PAGER=cat SYSTEMD_COLORS=0 TERM=dumb
    PS1='' PS2=''
    echo POSTE-VM-SHELL-READY
fi
