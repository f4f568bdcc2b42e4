# vfio-utils completion helper: the guests with a qemu.d directory under the
# sysroot, and, on the host itself, the domains libvirt knows.
function __vfio_utils_guests
    set -l root (__vfio_utils_sysroot)
    for d in $root/etc/libvirt/hooks/qemu.d/*/
        string replace -r "/\$" "" -- $d | string replace -r ".*/" ""
    end
    if test -z "$root"; and command -q virsh
        timeout 2 virsh -q list --all --name 2>/dev/null
    end
end
