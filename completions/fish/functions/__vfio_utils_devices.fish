# vfio-utils completion helper: __vfio_utils_devices [vfio|host|any]: the PCI
# devices of the tree the command line points at, each with what lspci calls
# it (class: vendor device, from iommu-groups' listing); vfio: only those on
# vfio-pci, host: only those not, bridges aside (vfio-bind refuses them).
function __vfio_utils_devices
    set -l which any
    set -q argv[1]; and set which $argv[1]
    set -l root (__vfio_utils_sysroot)
    set -l sysroot
    test -n "$root"; and set sysroot --sysroot $root
    # "09:00.0<TAB>VGA compatible controller: NVIDIA Corporation TU104 [...]"
    set -l names (iommu-groups $sysroot 2>/dev/null | string match -r '^\t.*' |
        string replace -r '^\t(\S+) (.*?) \[[0-9a-f]{4}\]: (.*?)( \[[0-9a-f]{4}:[0-9a-f]{4}\])?( \(rev [0-9a-f]+\))?$' '$1\t$2: $3')
    for d in $root/sys/bus/pci/devices/*
        set -l drv (readlink $d/driver 2>/dev/null | string replace -r '.*/' '')
        if test $which = vfio -a "$drv" != vfio-pci; or test $which = host -a "$drv" = vfio-pci
            continue
        end
        if test $which = host; and string match -qr '^0x060[049]' -- (cat $d/class 2>/dev/null)
            continue
        end
        set -l a (string replace -r '.*/(0000:)?' '' -- $d)
        set -l named (string match -- $a\t'*' $names)
        if set -q named[1]
            echo $named[1]
        else
            echo $a
        end
    end
end
