module kubedl.local/controlplane/pause

go 1.26
