# fish completion for vtcon (vfio-utils)

complete -c vtcon -f
complete -c vtcon -n __fish_use_subcommand -a list -d 'List the consoles'
complete -c vtcon -n __fish_use_subcommand -a unbind -d 'Unbind the framebuffer consoles'
complete -c vtcon -n __fish_use_subcommand -a bind -d 'Bind them again'
complete -c vtcon -l timeout -x -d 'Give up on a write the kernel does not finish'
complete -c vtcon -s n -l dry-run -d 'Print the commands, change nothing'
complete -c vtcon -l json -d 'Report as JSON'
complete -c vtcon -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c vtcon -s v -l verbose -d 'Log each action'
complete -c vtcon -s q -l quiet -d 'Print errors only'
complete -c vtcon -s h -l help -d 'Show help'
complete -c vtcon -s V -l version -d 'Show version'
complete -c vtcon -s a -l all -d 'bind: every (M) console'
