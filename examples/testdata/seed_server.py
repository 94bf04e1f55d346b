# The tutorial's server.py ("PYTHON İLE SOCKET PROGRAMLAMA"), made usable in tests: the
# same socket calls, recv(1024*5) and closeKeys, but the host and port come from the
# command line (port 0 picks a free one, reported on standard error), every socket call
# times out instead of hanging a test, and it stops when the client disconnects or its
# own input ends instead of looping for ever.
#
#   python3 seed_server.py HOST PORT
import socket
import sys

closeKeys  = ('bye', 'close', 'quit', 'q', 'kapat', 'exit')
host, port = sys.argv[1], int(sys.argv[2])
server = socket.socket()
server.settimeout(20)
server.bind( (host, port) )
server.listen(5)
print("listening on {}:{}".format(*server.getsockname()[:2]), file=sys.stderr, flush=True)

conn, addr = server.accept()
conn.settimeout(20)
while True:
    gelenMesaj = conn.recv(1024*5).decode()
    if gelenMesaj == "":
        print("client left", file=sys.stderr)  # the original loops for ever here
        break
    if str(gelenMesaj.lower().strip()) in closeKeys:
        print("client said goodbye", file=sys.stderr)
        server.close()
        break
    else:
        print( "CLIENT: {}".format(gelenMesaj) )
        try:
            gidecekMesaj = input("-> ")
        except EOFError:
            break
        conn.send( gidecekMesaj.encode() )

conn.close()
server.close()
