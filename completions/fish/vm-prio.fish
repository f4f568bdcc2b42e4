# fish completion for vm-prio (vfio-utils)

complete -c vm-prio -f
complete -c vm-prio -n __fish_use_subcommand -a status -d "Each running domain's vCPU threads"
complete -c vm-prio -n __fish_use_subcommand -a set -d 'Raise their priority'
complete -c vm-prio -n __fish_use_subcommand -a reset -d 'Put it back'
complete -c vm-prio -l domain-xml -r -F -d 'The domain XML (- for stdin)'
complete -c vm-prio -l nice -x -d 'set: the nice value (-20 to 19)'
complete -c vm-prio -l fifo -x -d 'set: SCHED_FIFO at this priority (1 to 99)'
complete -c vm-prio -l timeout -x -d 'Wait at most this long for the lock'
complete -c vm-prio -s n -l dry-run -d 'Print the commands, change nothing'
complete -c vm-prio -l json -d 'Report as JSON'
complete -c vm-prio -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c vm-prio -s v -l verbose -d 'Log each action'
complete -c vm-prio -s q -l quiet -d 'Print errors only'
complete -c vm-prio -s h -l help -d 'Show help'
complete -c vm-prio -s V -l version -d 'Show version'
