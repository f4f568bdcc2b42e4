# fish completion for vm-hugepages (vfio-utils)

complete -c vm-hugepages -f
complete -c vm-hugepages -n __fish_use_subcommand -a status -d 'The pools and who holds them'
complete -c vm-hugepages -n __fish_use_subcommand -a reserve -d 'Reserve what a domain needs'
complete -c vm-hugepages -n __fish_use_subcommand -a release -d 'Give back what reserve added'
complete -c vm-hugepages -l domain-xml -r -F -d 'The domain XML (- for stdin)'
complete -c vm-hugepages -l drop-caches -d 'reserve: drop the page cache first'
complete -c vm-hugepages -l timeout -x -d 'Wait at most this long for the lock'
complete -c vm-hugepages -s n -l dry-run -d 'Print the commands, change nothing'
complete -c vm-hugepages -l json -d 'Report as JSON'
complete -c vm-hugepages -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c vm-hugepages -s v -l verbose -d 'Log each action'
complete -c vm-hugepages -s q -l quiet -d 'Print errors only'
complete -c vm-hugepages -s h -l help -d 'Show help'
complete -c vm-hugepages -s V -l version -d 'Show version'
