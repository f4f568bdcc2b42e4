# fish completion for vfio-bind (vfio-utils)

function __vfio_bind_devices
    set -l root $VFIO_UTILS_SYSROOT
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        if test "$tokens[$i]" = --sysroot; and test $i -lt (count $tokens)
            set root $tokens[(math $i + 1)]
        end
    end
    for d in $root/sys/bus/pci/devices/*
        set -l drv (basename (readlink $d/driver 2>/dev/null) 2>/dev/null)
        if test "$drv" != vfio-pci
            string replace -r '^0000:' '' (basename $d)
        end
    end
end

complete -c vfio-bind -f
complete -c vfio-bind -s g -l group -d "The whole IOMMU group of each device"
complete -c vfio-bind -l unload -d "Remove the modules of the drivers they had"
complete -c vfio-bind -s f -l force -d "Even though the host uses the group"
complete -c vfio-bind -l domain-xml -r -F -d "The PCI hostdevs of a libvirt domain ('-': stdin)"
complete -c vfio-bind -s a -l all -d "Let a vendor:device match several devices"
complete -c vfio-bind -l timeout -x -d "Give up on an unbind after SECONDS"
complete -c vfio-bind -s n -l dry-run -d "Print the commands, change nothing"
complete -c vfio-bind -l json -d "Report as JSON"
complete -c vfio-bind -l sysroot -r -a '(__fish_complete_directories)' -d "Look up system trees below DIR"
complete -c vfio-bind -s v -l verbose -d "Log each action"
complete -c vfio-bind -s q -l quiet -d "Print errors only"
complete -c vfio-bind -s h -l help -d "Show help"
complete -c vfio-bind -s V -l version -d "Show version"
complete -c vfio-bind -a "(__vfio_bind_devices)" -d Device
