# vfio-utils completion helper: __vfio_utils_devices [vfio|host|any]: the PCI
# devices of the tree the command line points at, as lspci names them;
# vfio: only those on vfio-pci, host: only those not, bridges aside (vfio-bind
# refuses them).
function __vfio_utils_devices
    set -l which any
    set -q argv[1]; and set which $argv[1]
    set -l root (__vfio_utils_sysroot)
    for d in $root/sys/bus/pci/devices/*
        set -l drv (readlink $d/driver 2>/dev/null | string replace -r '.*/' '')
        if test $which = vfio -a "$drv" != vfio-pci; or test $which = host -a "$drv" = vfio-pci
            continue
        end
        if test $which = host; and string match -qr '^0x060[049]' -- (cat $d/class 2>/dev/null)
            continue
        end
        string replace -r '.*/(0000:)?' '' -- $d
    end
end
