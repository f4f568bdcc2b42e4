# fish completion for vfio-audit (vfio-utils)

complete -c vfio-audit -f
complete -c vfio-audit -a '(command -q virsh; and timeout 2 virsh -q list --all --name 2>/dev/null)' -d Domain
complete -c vfio-audit -s c -l connect -x -a 'qemu:///system qemu:///session test:///default' -d 'Libvirt to ask for domains'
complete -c vfio-audit -l domain-xml -r -F -d 'Audit this domain XML, - for stdin'
complete -c vfio-audit -l strict -d 'Warnings fail too'
complete -c vfio-audit -l json -d 'One JSON document'
complete -c vfio-audit -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c vfio-audit -s v -l verbose -d 'Log each action'
complete -c vfio-audit -s q -l quiet -d 'Print errors only'
complete -c vfio-audit -s h -l help -d 'Show help'
complete -c vfio-audit -s V -l version -d 'Show version'
