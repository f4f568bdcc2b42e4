# fish completion for dm-ctl (vfio-utils)

complete -c dm-ctl -f
complete -c dm-ctl -n __fish_use_subcommand -a status -d 'Init system, display manager, GPU holders'
complete -c dm-ctl -n __fish_use_subcommand -a stop -d 'Stop it and wait for the GPU'
complete -c dm-ctl -n __fish_use_subcommand -a start -d 'Start what stop stopped'
complete -c dm-ctl -s n -l dry-run -d 'Print the commands, change nothing'
complete -c dm-ctl -l json -d 'Report as JSON'
complete -c dm-ctl -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c dm-ctl -s v -l verbose -d 'Log each action'
complete -c dm-ctl -s q -l quiet -d 'Print errors only'
complete -c dm-ctl -s h -l help -d 'Show help'
complete -c dm-ctl -s V -l version -d 'Show version'
complete -c dm-ctl -l isolate -d 'systemd: multi-user.target and graphical.target'
complete -c dm-ctl -l timeout -x -d 'How long stop waits for the GPU'
