# fish completion for vfio-bind (vfio-utils)

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
complete -c vfio-bind -a "(__vfio_utils_devices host)" -d Device
