# fish completion for vm-nosleep (vfio-utils)

complete -c vm-nosleep -f
complete -c vm-nosleep -n __fish_use_subcommand -a status -d 'The inhibitors it holds'
complete -c vm-nosleep -n __fish_use_subcommand -a hold -d 'Keep the host from sleeping while the domain runs'
complete -c vm-nosleep -n __fish_use_subcommand -a release -d 'Let it sleep again'
complete -c vm-nosleep -n __fish_use_subcommand -a delay -d 'How long logind waits for a guest to go first'
complete -c vm-nosleep -n '__fish_seen_subcommand_from delay' -a default -d "logind's own delay"
complete -c vm-nosleep -l domain-xml -r -F -d 'The domain XML (- for stdin)'
complete -c vm-nosleep -l timeout -x -d 'Wait at most this long for logind and the lock'
complete -c vm-nosleep -l on-sleep -x -a 'block suspend hibernate' -d 'hold: at host sleep'
complete -c vm-nosleep -l on-shutdown -x -a 'none shutdown hibernate' -d 'hold: at host shutdown'
complete -c vm-nosleep -l if-late -x -a 'pause leave' -d 'hold: a guest not there in time'
complete -c vm-nosleep -l wait -x -d "hold: the guest's time to get there"
complete -c vm-nosleep -l connect -x -d 'hold: the libvirt URI the guest is asked through'
complete -c vm-nosleep -s n -l dry-run -d 'Print the commands, change nothing'
complete -c vm-nosleep -l json -d 'Report as JSON'
complete -c vm-nosleep -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c vm-nosleep -s v -l verbose -d 'Log each action'
complete -c vm-nosleep -s q -l quiet -d 'Print errors only'
complete -c vm-nosleep -s h -l help -d 'Show help'
complete -c vm-nosleep -s V -l version -d 'Show version'
