# fish completion for efifb (vfio-utils)

complete -c efifb -f
complete -c efifb -n __fish_use_subcommand -a status -d 'Which framebuffer, its driver, its GPU'
complete -c efifb -n __fish_use_subcommand -a unbind -d 'Release it'
complete -c efifb -n __fish_use_subcommand -a bind -d 'Restore it'
complete -c efifb -l timeout -x -d 'Give up on a write the kernel does not finish'
complete -c efifb -s n -l dry-run -d 'Print the commands, change nothing'
complete -c efifb -l json -d 'Report as JSON'
complete -c efifb -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c efifb -s v -l verbose -d 'Log each action'
complete -c efifb -s q -l quiet -d 'Print errors only'
complete -c efifb -s h -l help -d 'Show help'
complete -c efifb -s V -l version -d 'Show version'

