# fish completion for vfio-unbind (vfio-utils)

complete -c vfio-unbind -f
complete -c vfio-unbind -l restore -d "Every device vfio-bind remembers"
complete -c vfio-unbind -l unload-vfio -d "Then remove the vfio modules if unused"
complete -c vfio-unbind -s f -l force -d "Even from a running VM"
complete -c vfio-unbind -l domain-xml -r -F -d "The PCI hostdevs of a libvirt domain ('-': stdin)"
complete -c vfio-unbind -s a -l all -d "Let a vendor:device match several devices"
complete -c vfio-unbind -l timeout -x -d "Give up on an unbind after SECONDS"
complete -c vfio-unbind -s n -l dry-run -d "Print the commands, change nothing"
complete -c vfio-unbind -l json -d "Report as JSON"
complete -c vfio-unbind -l sysroot -r -a '(__fish_complete_directories)' -d "Look up system trees below DIR"
complete -c vfio-unbind -s v -l verbose -d "Log each action"
complete -c vfio-unbind -s q -l quiet -d "Print errors only"
complete -c vfio-unbind -s h -l help -d "Show help"
complete -c vfio-unbind -s V -l version -d "Show version"
complete -c vfio-unbind -a "(__vfio_utils_devices vfio)" -d Device
