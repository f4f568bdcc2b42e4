# The vendor:device IDs of the PCI devices of the tree the command line's
# --sysroot (or $VFIO_UTILS_SYSROOT) points at, as lspci -d takes them.
function __vfio_utils_ids
    set -l root (__vfio_utils_sysroot)
    for d in $root/sys/bus/pci/devices/*
        test -r $d/vendor -a -r $d/device; or continue
        echo (string replace 0x '' <$d/vendor):(string replace 0x '' <$d/device)
    end | sort -u
end
