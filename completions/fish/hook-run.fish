# fish completion for hook-run (vfio-utils)

complete -c hook-run -f
complete -c hook-run -n __fish_use_subcommand -a install -d 'Become the qemu hook'
complete -c hook-run -n __fish_use_subcommand -a check -d 'Audit the hooks'
complete -c hook-run -n __fish_use_subcommand -a list -d 'What would run, in order'
complete -c hook-run -n __fish_use_subcommand -a new -d 'Scaffold start and release scripts'
complete -c hook-run -n __fish_use_subcommand -a uninstall -d 'Undo install, the previous hook put back'
complete -c hook-run -n '__fish_seen_subcommand_from list new' -a '(__vfio_utils_guests)' -d Guest
complete -c hook-run -s c -l connect -x -a 'qemu:///system qemu:///session test:///default' -d 'Libvirt to ask for domains'
complete -c hook-run -l gpu -x -a '(__vfio_utils_devices host)' -d 'new: the GPU to pass'
complete -c hook-run -l force -d 'Replace qemu.orig, or existing scripts'
complete -c hook-run -l move-aside -d "new: move a guide's script doing the same work aside"
complete -c hook-run -s n -l dry-run -d 'Print the commands, change nothing'
complete -c hook-run -l json -d 'List as JSON'
complete -c hook-run -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c hook-run -s v -l verbose -d 'Log each action'
complete -c hook-run -s q -l quiet -d 'Print errors only'
complete -c hook-run -s h -l help -d 'Show help'
complete -c hook-run -s V -l version -d 'Show version'
