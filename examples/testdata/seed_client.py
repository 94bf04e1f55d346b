# The tutorial's client.py ("PYTHON İLE SOCKET PROGRAMLAMA"), made usable in tests: the
# same socket calls, recv(1024*5) and closeKeys, and like the original it leaves on a
# close key without sending it; but the host and port come from the command line, every
# socket call times out instead of hanging a test, and it stops when the server
# disconnects or its own input ends instead of looping for ever.
#
#   python3 seed_client.py HOST PORT
import socket
import sys

closeKeys  = ('bye', 'close', 'quit', 'q', 'kapat', 'exit')
host, port = sys.argv[1], int(sys.argv[2])
server = socket.socket()
server.settimeout(20)
server.connect( (host, port) )

while True:
    try:
        gidecekMesaj = input( '-> ' )
    except EOFError:
        break
    if gidecekMesaj.lower() in closeKeys:
        break
    else:
        try:
            server.send( gidecekMesaj.encode() )
            gelenMesaj = server.recv(1024*5).decode()
        except ConnectionError:
            gelenMesaj = ""  # the server closed before this message reached it
        if gelenMesaj == "":
            print("server left", file=sys.stderr)  # the original loops for ever here
            break
        print('SUNUCU > {}'.format(gelenMesaj))

server.close()
