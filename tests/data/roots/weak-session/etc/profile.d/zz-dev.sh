# Lets the field-service scripts share files with everyone.
umask a=rwx
